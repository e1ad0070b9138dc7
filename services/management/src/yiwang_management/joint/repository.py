"""Queries of joint parts, external systems, their tokens and item handlers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, delete, exists, func, select, text, update
from sqlalchemy.dialects.postgresql import distinct_on, insert

from yiwang_common.contracts.common import StepRecord
from yiwang_common.db.repository import RepositoryBase
from yiwang_management.case.models import Case, CaseStep
from yiwang_management.joint.models import ExternalSystem, ItemHandler, JointPart, PluginToken

#: The item code of a joint case's master row (the service's JOINT_ITEM_CODE).
_JOINT = "JOINT"

# The joint case takes the next number of the region's daily 办件编号 sequence, like any case.
_NEXT_NUMBER = text("""
INSERT INTO case_sequence (region_code, day, last_value) VALUES (:region_code, :day, 1)
ON CONFLICT (region_code, day) DO UPDATE SET last_value = case_sequence.last_value + 1
RETURNING last_value
""")


class SystemRepository(RepositoryBase[ExternalSystem]):
    """Registered external systems and their tokens."""

    model = ExternalSystem

    async def by_client_id(self, client_id: str) -> ExternalSystem | None:
        """The system with these client credentials."""
        return await self.get_one_or_none(select(ExternalSystem).where(ExternalSystem.client_id == client_id))

    async def add_token(self, token_hash: str, system_id: str, expires_at: datetime, now: datetime) -> None:
        """Store a new token and drop the system's expired ones."""
        await self.execute(
            delete(PluginToken).where(PluginToken.system_id == system_id, PluginToken.expires_at < now)
        )
        await self.execute(
            insert(PluginToken).values(token_hash=token_hash, system_id=system_id, expires_at=expires_at)
        )

    async def by_token(self, token_hash: str, now: datetime) -> ExternalSystem | None:
        """The active system a valid token belongs to."""
        statement = (
            select(ExternalSystem)
            .join(PluginToken, PluginToken.system_id == ExternalSystem.system_id)
            .where(PluginToken.token_hash == token_hash, PluginToken.expires_at > now, ExternalSystem.active)
        )
        return await self.get_one_or_none(statement)

    async def list_all(self) -> Sequence[ExternalSystem]:
        """Every registered system, by name."""
        return await self.get_all(select(ExternalSystem).order_by(ExternalSystem.name))


class HandlerRepository(RepositoryBase[ItemHandler]):
    """Which system handles which item."""

    model = ItemHandler

    async def put(self, values: dict[str, Any]) -> None:
        """Insert or replace an item's handler."""
        statement = insert(ItemHandler).values(values)
        await self.execute(
            statement.on_conflict_do_update(
                index_elements=["item_code"],
                set_={k: statement.excluded[k] for k in values if k != "item_code"},
            )
        )

    async def for_items(self, item_codes: Sequence[str]) -> dict[str, ItemHandler]:
        """The configured handlers of some items (items without one use the built-in workflow)."""
        rows = await self.get_all(select(ItemHandler).where(ItemHandler.item_code.in_(item_codes)))
        return {r.item_code: r for r in rows}


class JointRepository(RepositoryBase[JointPart]):
    """Joint cases (their master row in ``case_file``) and their parts."""

    model = JointPart

    async def next_number(self, region_code: str, day: date) -> int:
        """The region's next daily 办件编号 sequence value."""
        return int((await self.execute(_NEXT_NUMBER, {"region_code": region_code, "day": day})).scalar_one())

    async def lock_case(self, joint_no: str) -> Case | None:
        """Lock the joint case's master row: the parts' results are applied one at a time."""
        return await self._case(select(Case).where(Case.case_no == joint_no).with_for_update())

    async def case(self, joint_no: str) -> Case | None:
        """The joint case's master row."""
        return await self._case(select(Case).where(Case.case_no == joint_no))

    async def _case(self, statement: Select[Case]) -> Case | None:
        row: Case | None = (await self.execute(statement)).scalars().one_or_none()
        return row

    async def parts(self, joint_no: str) -> Sequence[JointPart]:
        """A joint case's parts in order."""
        return await self.get_all(
            select(JointPart).where(JointPart.joint_no == joint_no).order_by(JointPart.seq)
        )

    async def part(
        self, part_no: str, *, system_id: str | None = None, fresh: bool = False
    ) -> JointPart | None:
        """A part (of one system only, when ``system_id`` is given; re-read from the row when ``fresh``)."""
        statement = select(JointPart).where(JointPart.part_no == part_no)
        if fresh:
            statement = statement.execution_options(populate_existing=True)
        if system_id is not None:
            statement = statement.where(JointPart.system_id == system_id)
        return await self.get_one_or_none(statement)

    async def hand_out(self, system_id: str, limit: int) -> Sequence[JointPart]:
        """The system's unacknowledged dispatches, oldest first, each counted as one more delivery."""
        pending = (
            select(JointPart.part_no)
            .where(JointPart.system_id == system_id, JointPart.acked_at.is_(None))
            .order_by(JointPart.dispatched_at, JointPart.part_no)
            .limit(limit)
            .scalar_subquery()
        )
        statement = (
            update(JointPart)
            .where(JointPart.part_no.in_(pending))
            .values(deliveries=JointPart.deliveries + 1)
            .returning(JointPart)
        )
        rows = list((await self.execute(statement)).scalars())
        return sorted(rows, key=lambda p: (p.dispatched_at, p.part_no))

    async def insert_step(self, joint_no: str, step: StepRecord) -> bool:
        """Write a step on the joint case's timeline; False when it is there already (a replay)."""
        statement = (
            insert(CaseStep)
            .values(
                case_no=joint_no,
                step_key=step.step_key,
                step_name=step.step_name,
                action=step.action,
                handler_id=step.handler_id,
                handler_name=step.handler_name,
                opinion=step.opinion,
                org_name=step.org.name,
                org_code=step.org.code,
                started_at=step.started_at,
                ended_at=step.ended_at,
                status=step.status,
            )
            .on_conflict_do_nothing(index_elements=["case_no", "step_key", "ended_at"])
            .returning(CaseStep.id)
        )
        return (await self.execute(statement)).scalar_one_or_none() is not None

    async def joint_cases(
        self, *, region_prefix: str, org_code: str | None, open_only: bool, limit: int
    ) -> Sequence[Case]:
        """Joint cases of a region, newest first; with ``org_code``, only those its window opened or
        one of its parts is with."""
        statement = select(Case).where(Case.item_code == _JOINT, Case.case_no.startswith(region_prefix))
        if open_only:
            statement = statement.where(Case.status != "completed")
        if org_code is not None:
            mine = exists().where(JointPart.joint_no == Case.case_no, JointPart.org_code == org_code)
            statement = statement.where((Case.org_code == org_code) | mine)
        statement = statement.order_by(Case.accepted_at.desc(), Case.case_no.desc()).limit(limit)
        return list((await self.execute(statement)).scalars())

    async def parts_of(self, joint_nos: Sequence[str]) -> dict[str, list[JointPart]]:
        """The parts of several joint cases, in order, by joint case."""
        out: dict[str, list[JointPart]] = {n: [] for n in joint_nos}
        if not joint_nos:
            return out
        rows = await self.get_all(
            select(JointPart)
            .where(JointPart.joint_no.in_(joint_nos))
            .order_by(JointPart.joint_no, JointPart.seq)
        )
        for row in rows:
            out[row.joint_no].append(row)
        return out

    async def last_steps(self, joint_no: str) -> dict[str, CaseStep]:
        """The last step each part reported on the joint case's timeline, by the part's ``P01`` key."""
        key = func.substr(CaseStep.step_key, 1, 3)
        statement = (
            select(CaseStep)
            .where(CaseStep.case_no == joint_no, CaseStep.step_key.like("P__:%"))
            .ext(distinct_on(key))
            .order_by(key, CaseStep.ended_at.desc(), CaseStep.id.desc())
        )
        return {step.step_key[:3]: step for step in (await self.execute(statement)).scalars()}
