"""Queries of the case library (办件信息库). Every write is one order-tolerant upsert statement."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.contracts.common import StepRecord
from yiwang_common.db import utcnow
from yiwang_datasharing.case_record.models import CaseRecord, ExchangeLog, ProcessStep
from yiwang_datasharing.sql import upsert_insert

#: Lifecycle order (办件状态). Equal ranks are decided by event time, so a supplement
#: (pending_acceptance) after a notice (awaiting_supplement) wins, and vice versa.
STATUS_RANK: dict[str, int] = {
    "submitted": 0,
    "pending_acceptance": 1,
    "awaiting_supplement": 1,
    "accepted": 2,
    "completed": 3,
    "not_accepted": 3,
}


@dataclass
class CaseFacts:
    """What one event knows about a case."""

    application_id: uuid.UUID
    status: str
    event_time: datetime
    fields: dict[str, Any] = field(default_factory=dict)
    # The full material list as of ``event_time``; None when the event does not carry it.
    materials: list[dict[str, Any]] | None = None


class CaseRecordRepository:
    """Case records, their process steps and the exchange log."""

    async def upsert(self, session: AsyncSession, facts: CaseFacts) -> None:
        """Create or complete a case record without ever moving its status backwards."""
        t = CaseRecord.__table__
        now = utcnow()
        known = {k: v for k, v in facts.fields.items() if v is not None}
        values: dict[str, Any] = {
            "application_id": facts.application_id,
            "status": facts.status,
            "status_rank": STATUS_RANK[facts.status],
            "status_at": facts.event_time,
            "created_at": now,
            "updated_at": now,
            **known,
        }
        if facts.materials is not None:
            values |= {"materials": facts.materials, "materials_at": facts.event_time}
        stmt = upsert_insert(session, CaseRecord).values(values)
        ex = stmt.excluded
        newer = or_(
            ex.status_rank > t.c.status_rank,
            and_(ex.status_rank == t.c.status_rank, ex.status_at >= t.c.status_at),
        )
        set_: dict[str, Any] = {k: ex[k] for k in known}
        set_ |= {k: case((newer, ex[k]), else_=t.c[k]) for k in ("status", "status_rank", "status_at")}
        set_["updated_at"] = ex.updated_at
        if facts.materials is not None:
            fresher = or_(t.c.materials_at.is_(None), ex.materials_at >= t.c.materials_at)
            set_ |= {k: case((fresher, ex[k]), else_=t.c[k]) for k in ("materials", "materials_at")}
        await session.execute(stmt.on_conflict_do_update(index_elements=["application_id"], set_=set_))

    async def add_steps(
        self, session: AsyncSession, *, case_no: str, steps: Sequence[StepRecord], event_id: uuid.UUID
    ) -> None:
        """Record process steps; a step already known (same case, key and end) is kept as is."""
        if not steps:
            return
        now = utcnow()
        rows = [
            {
                "case_no": case_no,
                "step_key": s.step_key,
                "step_name": s.step_name,
                "action": s.action,
                "handler_id": s.handler_id,
                "handler_name": s.handler_name,
                "opinion": s.opinion,
                "started_at": s.started_at,
                "ended_at": s.ended_at,
                "org": s.org.model_dump(mode="json"),
                "status": s.status,
                "source_event_id": event_id,
                "created_at": now,
            }
            for s in steps
        ]
        stmt = upsert_insert(session, ProcessStep).values(rows)
        await session.execute(stmt.on_conflict_do_nothing(index_elements=["case_no", "step_key", "ended_at"]))

    async def log_exchange(
        self,
        session: AsyncSession,
        *,
        event_id: uuid.UUID,
        subject: str,
        source: str,
        case_no: str | None,
        event_time: datetime,
    ) -> None:
        stmt = upsert_insert(session, ExchangeLog).values(
            event_id=event_id,
            subject=subject,
            source=source,
            case_no=case_no,
            event_time=event_time,
            received_at=utcnow(),
        )
        await session.execute(stmt.on_conflict_do_nothing(index_elements=["event_id"]))

    async def get_by_case_no(self, session: AsyncSession, case_no: str) -> CaseRecord | None:
        return (
            await session.execute(select(CaseRecord).where(CaseRecord.case_no == case_no))
        ).scalar_one_or_none()

    async def steps_of(self, session: AsyncSession, case_no: str) -> Sequence[ProcessStep]:
        stmt = (
            select(ProcessStep)
            .where(ProcessStep.case_no == case_no)
            .order_by(ProcessStep.ended_at, ProcessStep.started_at, ProcessStep.id)
        )
        return (await session.execute(stmt)).scalars().all()


case_record_repository = CaseRecordRepository()
