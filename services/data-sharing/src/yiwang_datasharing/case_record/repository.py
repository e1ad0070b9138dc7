"""Queries of the case library (办件信息库). Every write is one order-tolerant upsert statement.

One repository for the case record with its process steps and exchange log: a case event writes
all three in one statement, so splitting them would split that round trip. The projection is
written with prebuilt driver SQL at commit and never through ORM objects; the reads return
``CaseRecord`` and ``ProcessStep`` objects that nothing in the same unit of work writes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, false, func, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB, insert

from yiwang_common.contracts.common import StepRecord
from yiwang_common.contracts.lifecycle import stage
from yiwang_common.db import WriteAtCommit, utcnow
from yiwang_common.db.repository import RepositoryBase
from yiwang_datasharing.access import ReadScope
from yiwang_datasharing.case_record.models import CaseRecord, ExchangeLog, ProcessStep
from yiwang_datasharing.item.repository import ItemScopeRepository

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


class CaseRecordRepository(RepositoryBase[CaseRecord]):
    """Case records, their process steps and the exchange log."""

    model = CaseRecord

    async def apply(
        self,
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
        _RECORD_WRITES[(exchange is not None, with_steps)].add(self.session, tuple(params))

    async def log_exchange(self, exchange: Exchange) -> None:
        """Write an exchange-log row on its own (an event that changed no case record)."""
        stmt = insert(ExchangeLog).values(
            event_id=exchange.event_id,
            subject=exchange.subject,
            source=exchange.source,
            case_no=exchange.case_no,
            event_time=exchange.event_time,
            received_at=exchange.received_at,
        )
        await self.execute(stmt.on_conflict_do_nothing(index_elements=["event_id"]))

    async def get_by_case_no(self, case_no: str) -> CaseRecord | None:
        """The record of ``case_no``, whoever asks (not for callers' reads: see ``get_visible``)."""
        return await self.get_one_or_none(self.get_base_statement().where(CaseRecord.case_no == case_no))

    @staticmethod
    def visible_to(scope: ReadScope) -> ColumnElement[bool]:
        """The condition on ``case_record`` rows a caller with ``scope`` may read.

        A condition for this and other repositories' queries, so it needs no session.
        """
        conditions: list[ColumnElement[bool]] = []
        if scope.applicant_ids:
            conditions.append(CaseRecord.applicant_id.in_(scope.applicant_ids))
        items = ItemScopeRepository.items_in_scope(scope)
        if items is not None:
            conditions.append(CaseRecord.item_code.in_(items))
        return or_(*conditions) if conditions else false()

    async def get_visible(self, case_no: str, scope: ReadScope) -> CaseRecord | None:
        """The record of ``case_no`` if the caller may read it; None whether it is absent or not theirs."""
        stmt = self.get_base_statement().where(CaseRecord.case_no == case_no, self.visible_to(scope))
        return await self.get_one_or_none(stmt)

    async def list_visible(
        self, scope: ReadScope, *, status: str | None, offset: int, limit: int
    ) -> tuple[Sequence[CaseRecord], int]:
        """One page of the records the caller may read, newest first, and how many there are."""
        conditions = [self.visible_to(scope), CaseRecord.case_no.is_not(None)]
        if status is not None:
            conditions.append(CaseRecord.status == status)
        count = select(func.count()).select_from(CaseRecord).where(*conditions)
        total = (await self.execute(count)).scalar_one()
        stmt = (
            self.get_base_statement()
            .where(*conditions)
            .order_by(CaseRecord.status_at.desc(), CaseRecord.application_id)
            .offset(offset)
            .limit(limit)
        )
        return await self.get_all(stmt), int(total)

    async def references_material(self, sha256: str, scope: ReadScope) -> bool:
        """Tell whether a record the caller may read lists the material (handed in or supplemented)."""
        ref = [{"sha256": sha256}]
        stmt = select(CaseRecord.application_id).where(
            self.visible_to(scope),
            or_(
                type_coerce(CaseRecord.materials, JSONB).contains(ref),
                type_coerce(CaseRecord.supplemented_materials, JSONB).contains(ref),
            ),
        )
        return await self.first_row(stmt.limit(1)) is not None

    async def steps_of(self, case_no: str) -> Sequence[ProcessStep]:
        """The process steps of a case, in the order they were done."""
        stmt = (
            select(ProcessStep)
            .where(ProcessStep.case_no == case_no)
            .order_by(ProcessStep.ended_at, ProcessStep.started_at, ProcessStep.id)
        )
        steps: Sequence[ProcessStep] = (await self.execute(stmt)).scalars().all()
        return steps
