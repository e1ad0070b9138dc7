"""Queries of cases, steps and the 办件编号 sequence.

One repository for the case aggregate (办件 with its 办理环节 and the daily number that names it):
its hot statements join or guard across those tables, so splitting them would split single
round trips. Hot paths (register, accept, complete) run prebuilt Core statements and get back
values (``CaseRecord``, ``StepView``, rows), never ORM objects; the window actions that mutate a
case (notice, refusal, supplement) read a tracked ``Case`` and let the session write it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import Date, Integer, Row, String, Table, bindparam, exists, func, literal, select
from sqlalchemy.dialects.postgresql import insert

from yiwang_common.access import ReadScope
from yiwang_common.contracts.common import StepRecord
from yiwang_common.db.repository import RepositoryBase
from yiwang_management.case.models import CASE_REGION, Case, CaseSequence, CaseStep
from yiwang_management.item.models import Item
from yiwang_management.payment.models import BEFORE_ACCEPTANCE
from yiwang_management.payment.repository import unpaid_before

_CASE = cast(Table, Case.__table__)
_STEP = cast(Table, CaseStep.__table__)
_STEP_COLUMNS = (
    _STEP.c.id,
    _STEP.c.step_key,
    _STEP.c.step_name,
    _STEP.c.action,
    _STEP.c.handler_id,
    _STEP.c.handler_name,
    _STEP.c.opinion,
    _STEP.c.org_name,
    _STEP.c.org_code,
    _STEP.c.started_at,
    _STEP.c.ended_at,
    _STEP.c.status,
)
#: What the staff list shows of a case; the heavy documents (form, materials) stay in the table.
_SUMMARY_COLUMNS = (
    _CASE.c.case_no,
    _CASE.c.status,
    _CASE.c.item_code,
    _CASE.c.item_name,
    _CASE.c.applicant,
    _CASE.c.registered_at,
    _CASE.c.missing_materials,
    _CASE.c.due_date,
    _CASE.c.on_time,
    _CASE.c.case_kind,
)
#: What completing a case needs of it.
_DECISION_COLUMNS = (
    _CASE.c.case_no,
    _CASE.c.application_id,
    _CASE.c.applicant_id,
    _CASE.c.item_code,
    _CASE.c.org_code,
    _CASE.c.status,
    _CASE.c.clock_start,
    _CASE.c.due_date,
    _CASE.c.pending_materials,
)
_NO_ID = float("inf")

# Statements of the hot paths are built once: building and cache-keying a construct per call
# costs more than the database round trip it makes.
_INSERT_CASE = _CASE.insert()
_UPDATE_CASE = _CASE.update().where(
    _CASE.c.case_no == bindparam("where_case_no"), _CASE.c.status == bindparam("where_status")
)
_WITH_STEPS = (
    select(*_CASE.c, *(c.label(f"step_{c.name}") for c in _STEP_COLUMNS))
    .outerjoin(_STEP, _STEP.c.case_no == _CASE.c.case_no)
    .order_by(_STEP.c.ended_at, _STEP.c.id)
)
# A case's region is the first six characters of its 办件编号 (the registering platform's
# 行政区划代码, ADR 0004), so the region check needs no column of its own.
# Acceptance also asks whether the fee due before it is unpaid (受理前缴费, ADR 0113): in the
# same round trip, as a column.
_LOCK_VISIBLE = (
    _WITH_STEPS.add_columns(
        unpaid_before(_CASE.c.item_code, _CASE.c.case_no, BEFORE_ACCEPTANCE).label("unpaid_before_acceptance")
    )
    .where(
        _CASE.c.case_no == bindparam("case_no"),
        _CASE.c.org_code == bindparam("org_code"),
        func.substr(_CASE.c.case_no, 1, func.length(bindparam("region_prefix", type_=String())))
        == bindparam("region_prefix"),
    )
    .with_for_update(of=_CASE)
)
_LOCK_FOR_DECISION = (
    select(*_DECISION_COLUMNS, *(c.label(f"step_{c.name}") for c in _STEP_COLUMNS))
    .outerjoin(_STEP, _STEP.c.case_no == _CASE.c.case_no)
    .where(_CASE.c.case_no == bindparam("case_no"))
    .order_by(_STEP.c.ended_at, _STEP.c.id)
    .with_for_update(of=_CASE)
)
_STEP_KEY = [_STEP.c.case_no, _STEP.c.step_key, _STEP.c.ended_at]
_INSERT_STEPS = insert(_STEP).on_conflict_do_nothing(index_elements=_STEP_KEY)
_STEP_ROW = (
    "case_no",
    "step_key",
    "step_name",
    "action",
    "handler_id",
    "handler_name",
    "opinion",
    "org_name",
    "org_code",
    "started_at",
    "ended_at",
    "status",
)
# One step of a case that exists, in one statement (business's step events): the row travels as
# parameters (``step_`` + column), so no statement is built per event.
_ADD_STEP_IF_CASE = (
    insert(_STEP)
    .from_select(
        list(_STEP_ROW),
        select(*(bindparam(f"step_{n}", type_=_STEP.c[n].type) for n in _STEP_ROW)).where(
            exists().where(_CASE.c.case_no == bindparam("step_case_no", type_=String()))
        ),
    )
    .on_conflict_do_nothing(index_elements=_STEP_KEY)
    .returning(_STEP.c.id)
)
_EXISTS = select(_CASE.c.case_no).where(_CASE.c.case_no == bindparam("case_no"))


def _like_prefix(prefix: str) -> str:
    """``startswith(prefix, autoescape=True)`` as a LIKE pattern with ``/`` as the escape."""
    return prefix.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


_SUMMARIES: dict[tuple[bool, bool, bool, bool], tuple[Any, Any]] = {}


def _summary_statements(county: bool, by_org: bool, by_status: bool, by_item: bool) -> tuple[Any, Any]:
    """The staff list's page and count statements for one combination of filters, built once.

    The staff queues poll the list: building its statements per request cost more than running them.
    """
    key = (county, by_org, by_status, by_item)
    if (built := _SUMMARIES.get(key)) is not None:
        return built
    # A county is an equality on the key's first six characters, which the two region indexes
    # order by; a city or province a prefix of the key.
    region = bindparam("region", type_=String())
    # ``region`` is the code itself for a county, else the LIKE pattern of its prefix (escaped).
    conditions = [CASE_REGION == region if county else _CASE.c.case_no.like(region, escape="/")]
    if by_org:
        conditions.append(_CASE.c.org_code == bindparam("org_code"))
    if by_status:
        conditions.append(_CASE.c.status == bindparam("status"))
    if by_item:
        conditions.append(_CASE.c.item_code == bindparam("item_code"))
    page = (
        select(*_SUMMARY_COLUMNS)
        .where(*conditions)
        .order_by(_CASE.c.registered_at.desc(), _CASE.c.case_no.desc())
        .offset(bindparam("offset", type_=Integer()))
        .limit(bindparam("limit", type_=Integer()))
    )
    built = _SUMMARIES[key] = (page, select(func.count()).where(*conditions))
    return built


@dataclass(frozen=True, slots=True)
class StepView:
    """A step as stored (attributes of ``CaseStep``), also for one just written."""

    step_key: str
    step_name: str
    action: str
    handler_id: str
    handler_name: str
    opinion: str
    org_name: str
    org_code: str
    started_at: datetime
    ended_at: datetime
    status: str
    id: float = _NO_ID

    @classmethod
    def of(cls, step: StepRecord) -> StepView:
        """A step about to be written, as it will read back (timestamps in UTC)."""
        return cls(
            step_key=step.step_key,
            step_name=step.step_name,
            action=step.action,
            handler_id=step.handler_id,
            handler_name=step.handler_name,
            opinion=step.opinion,
            org_name=step.org.name,
            org_code=step.org.code,
            started_at=step.started_at.astimezone(UTC),
            ended_at=step.ended_at.astimezone(UTC),
            status=step.status,
        )


def step_order(step: StepView | Row[Any]) -> tuple[datetime, float]:
    """The order steps are read in: by end, then by id (unwritten steps last)."""
    return step.ended_at, step.id


@dataclass(frozen=True, slots=True)
class ItemGuard:
    """The item version a cached copy was taken from; a case is registered only if it is still in force."""

    item_code: str
    version: int
    published_at: datetime


def _take_sequence() -> Any:
    new_application = ~exists().where(_CASE.c.application_id == bindparam("application_id"))
    same_item = exists().where(
        Item.item_code == bindparam("item_code"),
        Item.version == bindparam("item_version"),
        Item.published_at == bindparam("item_published_at"),
    )
    source = select(
        bindparam("seq_region_code", type_=String()),
        bindparam("seq_day", type_=Date()),
        literal(1, Integer()),
    ).where(new_application, same_item)
    # The table, not the mapped class: executed with parameters, an ORM insert would be a bulk insert.
    sequence = cast(Table, CaseSequence.__table__)
    return (
        insert(sequence)
        .from_select(["region_code", "day", "last_value"], source)
        .on_conflict_do_update(
            index_elements=[sequence.c.region_code, sequence.c.day],
            set_={"last_value": sequence.c.last_value + 1},
        )
        .returning(sequence.c.last_value)
    )


_TAKE_SEQUENCE = _take_sequence()


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """A case row as a value (the columns of ``Case``, in table order), read or written with Core.

    The hot paths hand these around instead of ``Case`` objects: a value cannot be mistaken for
    a tracked object, go stale next to one, or be flushed by accident. A test keeps the fields
    equal to the table's columns.
    """

    case_no: str
    application_id: uuid.UUID
    item_code: str
    item_name: str
    org_code: str
    org_name: str
    applicant_id: str
    applicant: dict[str, Any]
    channel: str
    form: dict[str, Any]
    materials: list[dict[str, Any]]
    required_materials: list[dict[str, Any]]
    statutory_limit_days: int
    promised_limit_days: int
    missing_materials: list[dict[str, Any]]
    status: str
    submitted_at: datetime
    registered_at: datetime
    supplement_notice_no: str | None = None
    supplement_notice_text: str | None = None
    supplement_requested_at: datetime | None = None
    last_supplemented_at: datetime | None = None
    acceptance_notice_no: str | None = None
    accepted_at: datetime | None = None
    accepted_window: str | None = None
    clock_start: date | None = None
    due_date: date | None = None
    statutory_due_date: date | None = None
    rejection_notice_no: str | None = None
    rejection_reason: str | None = None
    rejected_at: datetime | None = None
    outcome: str | None = None
    decision: dict[str, Any] | None = None
    licence: dict[str, Any] | None = None
    completed_at: datetime | None = None
    on_time: bool | None = None
    working_days_used: int | None = None
    item_version: int | None = None
    case_kind: str | None = None
    intake_rules: dict[str, Any] | None = None
    pending_materials: list[dict[str, Any]] | None = None
    pending_due_date: date | None = None


#: A case either way it is held: tracked (``Case``) or as a value (``CaseRecord``).
AnyCase = Case | CaseRecord

_CASE_FIELDS = tuple(c.name for c in _CASE.c)


def _record(row: Row[Any]) -> CaseRecord:
    return CaseRecord(**{name: getattr(row, name) for name in _CASE_FIELDS})


def _stored_steps(rows: Sequence[Row[Any]]) -> list[StepView]:
    """The steps of the rows of a case read with its steps (``step_``-prefixed columns)."""
    return [
        StepView(
            step_key=r.step_step_key,
            step_name=r.step_step_name,
            action=r.step_action,
            handler_id=r.step_handler_id,
            handler_name=r.step_handler_name,
            opinion=r.step_opinion,
            org_name=r.step_org_name,
            org_code=r.step_org_code,
            started_at=r.step_started_at,
            ended_at=r.step_ended_at,
            status=r.step_status,
            id=r.step_id,
        )
        for r in rows
        if r.step_id is not None
    ]


class CaseRepository(RepositoryBase[Case]):
    """Reads and writes cases, their steps and their numbers inside one unit of work."""

    model = Case

    async def next_sequence(self, region_code: str, day: date) -> int:
        """Take the next daily number for a region; one atomic upsert, safe under concurrency."""
        statement = (
            insert(CaseSequence)
            .values(region_code=region_code, day=day, last_value=1)
            .on_conflict_do_update(
                index_elements=[CaseSequence.region_code, CaseSequence.day],
                set_={"last_value": CaseSequence.last_value + 1},
            )
            .returning(CaseSequence.last_value)
        )
        return int((await self.execute(statement)).scalar_one())

    async def take_sequence_for(
        self, region_code: str, day: date, application_id: uuid.UUID, item: ItemGuard
    ) -> int | None:
        """Take the next daily number, unless the application is a case already or the item changed.

        One statement does the duplicate check, the catalogue check and the atomic upsert; None
        means one of the checks failed (the caller finds out which on this rare path).
        """
        params = {
            # Not named after columns of case_sequence: those names are the INSERT's own.
            "seq_region_code": region_code,
            "seq_day": day,
            "application_id": application_id,
            "item_code": item.item_code,
            "item_version": item.version,
            "item_published_at": item.published_at,
        }
        value = (await self.execute(_TAKE_SEQUENCE, params)).scalar_one_or_none()
        return None if value is None else int(value)

    async def insert_case(self, values: dict[str, Any]) -> None:
        """Write a new case row (no unit-of-work bookkeeping: nothing tracks it)."""
        await self.execute(_INSERT_CASE, values)

    async def lock_visible(
        self, case_no: str, scope: ReadScope
    ) -> tuple[CaseRecord, list[StepView], bool] | None:
        """Lock a case of the unit in its region and read it with its steps in order, in one round trip,
        and whether a fee due before acceptance is unpaid.

        None if there is no such case in the unit's region (or the caller handles no unit's cases).
        """
        if scope.org_code is None or scope.region_prefix is None:
            return None
        rows = await self.rows(
            _LOCK_VISIBLE,
            {"case_no": case_no, "org_code": scope.org_code, "region_prefix": scope.region_prefix},
        )
        if not rows:
            return None
        return _record(rows[0]), _stored_steps(rows), bool(rows[0].unpaid_before_acceptance)

    async def lock_for_decision(self, case_no: str) -> tuple[Row[Any], list[StepView]] | None:
        """Lock a case and read what completing it needs (a row) with its steps in order.

        None if there is no such case.
        """
        rows = await self.rows(_LOCK_FOR_DECISION, {"case_no": case_no})
        if not rows:
            return None
        return rows[0], _stored_steps(rows)

    async def update_case(self, case_no: str, status: str, values: dict[str, Any]) -> None:
        """Change a case still in ``status`` (the caller holds its lock and no tracked copy of it)."""
        await self.execute(_UPDATE_CASE, {**values, "where_case_no": case_no, "where_status": status})

    async def get(self, case_no: str, *, for_update: bool = False) -> Case | None:
        """Return a tracked case by 办件编号, optionally locked against concurrent transitions."""
        statement = self.get_base_statement().where(Case.case_no == case_no)
        if for_update:
            statement = statement.with_for_update()
        return await self.get_one_or_none(statement)

    async def get_visible(self, case_no: str, scope: ReadScope, *, for_update: bool = False) -> Case | None:
        """Return a tracked case only if the scope admits it (unit and region, or region)."""
        if scope.region_prefix is None or not case_no.startswith(scope.region_prefix):
            return None
        statement = self.get_base_statement().where(Case.case_no == case_no)
        if scope.org_code is not None:
            statement = statement.where(Case.org_code == scope.org_code)
        if for_update:
            statement = statement.with_for_update()
        return await self.get_one_or_none(statement)

    async def exists(self, case_no: str) -> bool:
        """Tell whether a case with that 办件编号 exists."""
        return await self.first_row(_EXISTS, {"case_no": case_no}) is not None

    async def case_no_of(self, application_id: uuid.UUID) -> str | None:
        """The 办件编号 an application became, if it did."""
        statement = select(Case.case_no).where(Case.application_id == application_id)
        row = await self.first_row(statement)
        return None if row is None else str(row[0])

    async def exists_for_application(self, application_id: uuid.UUID) -> bool:
        """Tell whether an application already became a case."""
        statement = select(Case.case_no).where(Case.application_id == application_id)
        return await self.first_row(statement) is not None

    async def list_summaries(
        self, scope: ReadScope, *, status: str | None, item_code: str | None, offset: int, limit: int
    ) -> tuple[Sequence[Row[Any]], int]:
        """Return one page of the scope's cases (only the list's columns), newest first, and the total.

        The total is counted only when the page is full: a short page is the last one.
        """
        if scope.region_prefix is None:
            return [], 0
        county = len(scope.region_prefix) == 6
        page_statement, count_statement = _summary_statements(
            county, scope.org_code is not None, status is not None, item_code is not None
        )
        prefix = scope.region_prefix
        params: dict[str, Any] = {
            "region": prefix if county else _like_prefix(prefix),
            "org_code": scope.org_code,
            "status": status,
            "item_code": item_code,
            "offset": offset,
            "limit": limit,
        }
        page = await self.rows(page_statement, params)
        if len(page) < limit and (page or offset == 0):
            # A short page is the last one: everything before it plus what it holds.
            return page, offset + len(page)
        total = (await self.execute(count_statement, params)).scalar_one()
        return page, int(total)

    async def add_steps(self, case_no: str, steps: Sequence[StepRecord]) -> None:
        """Record steps of a tracked case; a step already recorded (same key and end) is skipped.

        The session is flushed first so the case's own changes reach the table before its steps.
        """
        if not steps:
            return
        await self.session.flush()
        rows = [_step_row(case_no, step) for step in steps]
        statement = (
            insert(CaseStep)
            .values(rows)
            .on_conflict_do_nothing(index_elements=[CaseStep.case_no, CaseStep.step_key, CaseStep.ended_at])
        )
        await self.execute(statement)

    async def add_step_if_case(self, case_no: str, step: StepRecord) -> bool:
        """Record one step of an existing case in one statement; False if none was written.

        Nothing is written when the case is unknown or the step is already recorded.
        """
        params = {f"step_{name}": value for name, value in _step_row(case_no, step).items()}
        return await self.first_row(_ADD_STEP_IF_CASE, params) is not None

    async def insert_steps(self, case_no: str, steps: Sequence[StepRecord]) -> None:
        """Record steps without flushing the unit of work first (no ORM object is pending)."""
        if not steps:
            return
        await self.execute(_INSERT_STEPS, [_step_row(case_no, step) for step in steps])

    async def steps(self, case_no: str) -> Sequence[CaseStep]:
        """Return a case's steps in the order they ended."""
        statement = (
            select(CaseStep).where(CaseStep.case_no == case_no).order_by(CaseStep.ended_at, CaseStep.id)
        )
        return (await self.execute(statement)).scalars().all()


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
