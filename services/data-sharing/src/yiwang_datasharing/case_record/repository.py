"""Queries of the case library (办件信息库). Every write is one order-tolerant upsert statement."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, false, func, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.contracts.common import StepRecord
from yiwang_common.contracts.lifecycle import stage
from yiwang_common.db import WriteAtCommit, utcnow
from yiwang_datasharing.access import ReadScope
from yiwang_datasharing.case_record.models import CaseRecord, ExchangeLog, ProcessStep
from yiwang_datasharing.item.repository import item_scope_repository

# The projection keeps the status that supersedes the others by the contracts' lifecycle order
# (yiwang_common.contracts.lifecycle.supersedes): a later stage, or the same stage and no older.
# The rank column holds the stage, so the upsert compares it in SQL.


@dataclass
class CaseFacts:
    """What one event knows about a case."""

    application_id: uuid.UUID
    status: str
    event_time: datetime
    fields: dict[str, Any] = field(default_factory=dict)
    # The full material list as of ``event_time``; None when the event does not carry it.
    materials: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class Exchange:
    """One row of the exchange log (交换记录), written with the effect of its event."""

    event_id: uuid.UUID
    subject: str
    source: str
    case_no: str | None
    event_time: datetime
    received_at: datetime


# Every case event becomes ONE statement: the exchange log row and the process steps ride along
# as data-modifying CTEs of the case record upsert. The SQL is fixed text sent straight to the
# driver (prepared once per connection), so no SQLAlchemy construct is built or compiled per
# event. A field the event does not know (None) keeps the stored value, status never moves
# backwards, materials only move forwards in time, and a step already known is kept as is.

_JSON_FIELDS = frozenset({"applicant", "form", "materials", "supplemented_materials", "decision"})
_TIME_FIELDS = frozenset(
    {
        "materials_at",
        "status_at",
        "submitted_at",
        "registered_at",
        "accepted_at",
        "rejected_at",
        "completed_at",
    }
)
#: Fields an event may know; unknown (None) ones keep the stored value on update.
_FACT_FIELDS: tuple[str, ...] = (
    "case_no",
    "applicant_id",
    "applicant",
    "item_code",
    "item_name",
    "form",
    "supplemented_materials",
    "submitted_at",
    "registered_at",
    "accepted_at",
    "rejected_at",
    "rejection_reason",
    "due_date",
    "outcome",
    "decision",
    "licence_identifier",
    "on_time",
    "completed_at",
)
_FACT_INDEX = {name: i for i, name in enumerate(_FACT_FIELDS)}
_RECORD_COLUMNS: tuple[str, ...] = (
    "application_id",
    "status",
    "status_rank",
    "status_at",
    "materials",
    "materials_at",
    "created_at",
    "updated_at",
    *_FACT_FIELDS,
)
_NEWER = (
    "(EXCLUDED.status_rank > case_record.status_rank OR (EXCLUDED.status_rank = case_record.status_rank"
    " AND EXCLUDED.status_at >= case_record.status_at))"
)
_FRESHER = (
    "(EXCLUDED.materials_at IS NOT NULL AND (case_record.materials_at IS NULL"
    " OR EXCLUDED.materials_at >= case_record.materials_at))"
)


def _record_upsert_sql(first: int) -> str:
    cols = ", ".join(_RECORD_COLUMNS)
    params = ", ".join(f"${first + i}" for i in range(len(_RECORD_COLUMNS)))
    sets = [f"{k} = COALESCE(EXCLUDED.{k}, case_record.{k})" for k in _FACT_FIELDS]
    sets += [
        f"{k} = CASE WHEN {_NEWER} THEN EXCLUDED.{k} ELSE case_record.{k} END"
        for k in ("status", "status_rank", "status_at")
    ]
    sets += ["updated_at = EXCLUDED.updated_at"]
    sets += [
        f"{k} = CASE WHEN {_FRESHER} THEN EXCLUDED.{k} ELSE case_record.{k} END"
        for k in ("materials", "materials_at")
    ]
    return (
        f"INSERT INTO case_record ({cols}) VALUES ({params}) "
        f"ON CONFLICT (application_id) DO UPDATE SET {', '.join(sets)}"
    )


_LOG_CTE = (
    "log AS (INSERT INTO exchange_log (event_id, subject, source, case_no, event_time, received_at) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING)"
)


def _steps_cte(first: int) -> str:
    p = [f"${first + i}" for i in range(13)]
    return (
        "steps AS (INSERT INTO process_step (case_no, source_event_id, created_at, step_key, step_name,"
        " action, handler_id, handler_name, opinion, started_at, ended_at, org, status) "
        f"SELECT {p[0]}::varchar, {p[1]}::uuid, {p[2]}::timestamptz, s.step_key, s.step_name, s.action,"
        " s.handler_id, s.handler_name, s.opinion, s.started_at, s.ended_at, s.org::jsonb, s.status "
        f"FROM unnest({p[3]}::varchar[], {p[4]}::varchar[], {p[5]}::varchar[], {p[6]}::varchar[],"
        f" {p[7]}::varchar[], {p[8]}::text[], {p[9]}::timestamptz[], {p[10]}::timestamptz[],"
        f" {p[11]}::text[], {p[12]}::varchar[])"
        " AS s(step_key, step_name, action, handler_id, handler_name, opinion, started_at, ended_at, org, status)"
        " ON CONFLICT (case_no, step_key, ended_at) DO NOTHING)"
    )


#: (with exchange log, with steps) -> SQL
_SQL: dict[tuple[bool, bool], str] = {
    (False, False): _record_upsert_sql(1),
    (True, False): f"WITH {_LOG_CTE} {_record_upsert_sql(7)}",
    (False, True): f"WITH {_steps_cte(1)} {_record_upsert_sql(14)}",
    (True, True): f"WITH {_LOG_CTE}, {_steps_cte(7)} {_record_upsert_sql(20)}",
}
_RECORD_WRITES = {variant: WriteAtCommit(sql) for variant, sql in _SQL.items()}


def _aware(value: datetime) -> datetime:
    """As TZDateTime does: refuse naive values."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a TZDateTime column")
    return value


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _fact_param(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in _JSON_FIELDS:
        return _json(value)
    if name in _TIME_FIELDS:
        return _aware(value)
    return value


class CaseRecordRepository:
    """Case records, their process steps and the exchange log."""

    async def apply(
        self,
        session: AsyncSession,
        facts: CaseFacts,
        *,
        exchange: Exchange | None = None,
        case_no: str | None = None,
        steps: Sequence[StepRecord] = (),
        event_id: uuid.UUID | None = None,
    ) -> None:
        """Log the exchange, record the steps and upsert the record, in one statement.

        The statement goes out with the commit (:class:`yiwang_common.db.WriteAtCommit`).
        """
        with_steps = case_no is not None and bool(steps)
        now = utcnow()
        params: list[Any] = []
        if exchange is not None:
            params += [
                exchange.event_id,
                exchange.subject,
                exchange.source,
                exchange.case_no,
                _aware(exchange.event_time),
                exchange.received_at,
            ]
        if with_steps:
            params += [
                case_no,
                event_id,
                now,
                [s.step_key for s in steps],
                [s.step_name for s in steps],
                [s.action for s in steps],
                [s.handler_id for s in steps],
                [s.handler_name for s in steps],
                [s.opinion for s in steps],
                [_aware(s.started_at) for s in steps],
                [_aware(s.ended_at) for s in steps],
                [_json(s.org.model_dump(mode="json")) for s in steps],
                [s.status for s in steps],
            ]
        facts_values: list[Any] = [None] * len(_FACT_FIELDS)
        for name, value in facts.fields.items():
            facts_values[_FACT_INDEX[name]] = _fact_param(name, value)
        has_materials = facts.materials is not None
        event_time = _aware(facts.event_time)
        params += [
            facts.application_id,
            facts.status,
            stage(facts.status),
            event_time,
            _json(facts.materials) if has_materials else None,
            event_time if has_materials else None,
            now,
            now,
            *facts_values,
        ]
        # Order-tolerant and read by nothing else in the unit of work: the records of a whole
        # consumer batch go out together at commit, one pipelined statement per variant.
        _RECORD_WRITES[(exchange is not None, with_steps)].add(session, tuple(params))

    async def log_exchange(
        self,
        session: AsyncSession,
        *,
        event_id: uuid.UUID,
        subject: str,
        source: str,
        case_no: str | None,
        event_time: datetime,
        received_at: datetime | None = None,
    ) -> None:
        stmt = insert(ExchangeLog).values(
            event_id=event_id,
            subject=subject,
            source=source,
            case_no=case_no,
            event_time=event_time,
            received_at=received_at or utcnow(),
        )
        await session.execute(stmt.on_conflict_do_nothing(index_elements=["event_id"]))

    async def get_by_case_no(self, session: AsyncSession, case_no: str) -> CaseRecord | None:
        return (
            await session.execute(select(CaseRecord).where(CaseRecord.case_no == case_no))
        ).scalar_one_or_none()

    @staticmethod
    def visible_to(scope: ReadScope) -> ColumnElement[bool]:
        """The condition on ``case_record`` rows a caller with ``scope`` may read."""
        conditions: list[ColumnElement[bool]] = []
        if scope.applicant_id is not None:
            conditions.append(CaseRecord.applicant_id == scope.applicant_id)
        items = item_scope_repository.items_in_scope(scope)
        if items is not None:
            conditions.append(CaseRecord.item_code.in_(items))
        return or_(*conditions) if conditions else false()

    async def get_visible(self, session: AsyncSession, case_no: str, scope: ReadScope) -> CaseRecord | None:
        """The record of ``case_no`` if the caller may read it; None whether it is absent or not theirs."""
        stmt = select(CaseRecord).where(CaseRecord.case_no == case_no, self.visible_to(scope))
        return (await session.execute(stmt)).scalar_one_or_none()

    async def list_visible(
        self, session: AsyncSession, scope: ReadScope, *, status: str | None, offset: int, limit: int
    ) -> tuple[Sequence[CaseRecord], int]:
        """One page of the records the caller may read, newest first, and how many there are."""
        conditions = [self.visible_to(scope), CaseRecord.case_no.is_not(None)]
        if status is not None:
            conditions.append(CaseRecord.status == status)
        total = (
            await session.execute(select(func.count()).select_from(CaseRecord).where(*conditions))
        ).scalar_one()
        stmt = (
            select(CaseRecord)
            .where(*conditions)
            .order_by(CaseRecord.status_at.desc(), CaseRecord.application_id)
            .offset(offset)
            .limit(limit)
        )
        return (await session.execute(stmt)).scalars().all(), int(total)

    async def references_material(self, session: AsyncSession, sha256: str, scope: ReadScope) -> bool:
        """Tell whether a record the caller may read lists the material (handed in or supplemented)."""
        ref = [{"sha256": sha256}]
        stmt = select(CaseRecord.application_id).where(
            self.visible_to(scope),
            or_(
                type_coerce(CaseRecord.materials, JSONB).contains(ref),
                type_coerce(CaseRecord.supplemented_materials, JSONB).contains(ref),
            ),
        )
        return (await session.execute(stmt.limit(1))).first() is not None

    async def steps_of(self, session: AsyncSession, case_no: str) -> Sequence[ProcessStep]:
        stmt = (
            select(ProcessStep)
            .where(ProcessStep.case_no == case_no)
            .order_by(ProcessStep.ended_at, ProcessStep.started_at, ProcessStep.id)
        )
        return (await session.execute(stmt)).scalars().all()


case_record_repository = CaseRecordRepository()
