"""Queries of cases, steps and the 办件编号 sequence."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.contracts.common import StepRecord
from yiwang_management.case.models import Case, CaseSequence, CaseStep


class CaseRepository:
    """Reads and writes cases inside the caller's unit of work."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _insert(self, table: type[Any]) -> Any:
        # ON CONFLICT is dialect syntax; both backends we run on support it with RETURNING.
        if self.session.get_bind().dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    async def next_sequence(self, region_code: str, day: date) -> int:
        """Take the next daily number for a region; one atomic upsert, safe under concurrency."""
        statement = (
            self._insert(CaseSequence)
            .values(region_code=region_code, day=day, last_value=1)
            .on_conflict_do_update(
                index_elements=[CaseSequence.region_code, CaseSequence.day],
                set_={"last_value": CaseSequence.last_value + 1},
            )
            .returning(CaseSequence.last_value)
        )
        return int((await self.session.execute(statement)).scalar_one())

    async def get(self, case_no: str, *, for_update: bool = False) -> Case | None:
        """Return a case by 办件编号, optionally locked against concurrent transitions."""
        return await self._one(select(Case).where(Case.case_no == case_no), for_update)

    async def get_visible(
        self, case_no: str, org_code: str | None, *, for_update: bool = False
    ) -> Case | None:
        """Return a case only if it belongs to the staff member's unit."""
        if org_code is None:
            return None
        statement = select(Case).where(Case.case_no == case_no, Case.org_code == org_code)
        return await self._one(statement, for_update)

    async def _one(self, statement: Select[Case], for_update: bool) -> Case | None:
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def exists(self, case_no: str) -> bool:
        """Tell whether a case with that 办件编号 exists."""
        statement = select(Case.case_no).where(Case.case_no == case_no)
        return (await self.session.execute(statement)).first() is not None

    async def exists_for_application(self, application_id: uuid.UUID) -> bool:
        """Tell whether an application already became a case."""
        statement = select(Case.case_no).where(Case.application_id == application_id)
        return (await self.session.execute(statement)).first() is not None

    async def list_for_org(
        self, org_code: str, *, status: str | None, item_code: str | None, offset: int, limit: int
    ) -> tuple[Sequence[Case], int]:
        """Return one page of a unit's cases, newest first, and the total count."""
        conditions = [Case.org_code == org_code]
        if status is not None:
            conditions.append(Case.status == status)
        if item_code is not None:
            conditions.append(Case.item_code == item_code)
        total = (await self.session.execute(select(func.count()).where(*conditions))).scalar_one()
        page = await self.session.execute(
            select(Case)
            .where(*conditions)
            .order_by(Case.registered_at.desc(), Case.case_no.desc())
            .offset(offset)
            .limit(limit)
        )
        return page.scalars().all(), total

    def add(self, case: Case) -> None:
        """Stage a new case."""
        self.session.add(case)

    async def add_steps(self, case_no: str, steps: Sequence[StepRecord]) -> None:
        """Record steps; a step already recorded (same key and end) is skipped."""
        if not steps:
            return
        await self.session.flush()
        rows = [_step_row(case_no, step) for step in steps]
        statement = (
            self._insert(CaseStep)
            .values(rows)
            .on_conflict_do_nothing(index_elements=[CaseStep.case_no, CaseStep.step_key, CaseStep.ended_at])
        )
        await self.session.execute(statement)

    async def steps(self, case_no: str) -> Sequence[CaseStep]:
        """Return a case's steps in the order they ended."""
        statement = (
            select(CaseStep).where(CaseStep.case_no == case_no).order_by(CaseStep.ended_at, CaseStep.id)
        )
        return (await self.session.execute(statement)).scalars().all()


def _step_row(case_no: str, step: StepRecord) -> dict[str, Any]:
    return {
        "case_no": case_no,
        "step_key": step.step_key,
        "step_name": step.step_name,
        "action": step.action,
        "handler_id": step.handler_id,
        "handler_name": step.handler_name,
        "opinion": step.opinion,
        "org_name": step.org.name,
        "org_code": step.org.code,
        "started_at": step.started_at,
        "ended_at": step.ended_at,
        "status": step.status,
    }
