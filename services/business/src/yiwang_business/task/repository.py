"""Queries of business cases and tasks.

Completing a step is the hot path: it reads and writes with prebuilt Core statements only, run
as ``DriverStatement``s on the unit of work's asyncpg connection (ADR 0129: SQLAlchemy's execution
layer cost more client CPU than the round trip), and the ``Task``/``BusinessCase`` it returns are
plain value objects built from the returned row, never attached to the session. Reads for display (``get``, ``get_with_case``, ``list_for_case``)
use the ORM and write nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    String,
    Table,
    any_,
    bindparam,
    case,
    cast as sql_cast,
    column,
    func,
    literal,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, Insert as PgInsert, insert
from sqlalchemy.sql import Insert
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from yiwang_business.db import column_values, messaging, transient
from yiwang_business.decision.models import Decision
from yiwang_business.licence.models import ELicence
from yiwang_business.numbering.models import Counter
from yiwang_business.task.models import (
    CASE_IN_PROGRESS,
    KIND_ASSIST,
    TASK_CANCELLED,
    TASK_DONE,
    TASK_OPEN,
    BusinessCase,
    CaseLog,
    Task,
    TimerSweep,
)
from yiwang_common.db.driver import DriverStatement
from yiwang_common.db.repository import RepositoryBase

_task = cast(Table, Task.__table__)
_task_by_id = _task.alias("its_task")
_case = cast(Table, BusinessCase.__table__)


def _version(table: Table) -> ColumnElement[str]:
    """A row version's identity: the transaction that wrote it (``xmin``) and where it lies (``ctid``).

    Every UPDATE writes a new version: another transaction's has another ``xmin``; the same
    transaction's (a batch of events in one unit of work) keeps the ``xmin`` but lies elsewhere,
    since the version it replaces is still visible to others until commit. So an equal pair means
    the row is as it was when the pair was read. A pair comes back only after 2³² transactions
    (``xmin`` wraps), far beyond a known task's lifetime. As text: ``xid`` is unsigned 32-bit, which
    no integer parameter type holds.
    """
    xmin = sql_cast(column("xmin", _selectable=table), String())
    ctid = sql_cast(column("ctid", _selectable=table), String())
    return xmin.op("||")(literal("@", String())).op("||")(ctid)


#: Task columns, in the order the ``Task`` constructor takes them by name.
TASK_COLUMNS = tuple(_task.c)
#: Case columns handling a task needs (all but the materials list).
CASE_COLUMNS = tuple(c for c in _case.c if c.name != "materials")
_TASK_KEYS = tuple(c.key for c in TASK_COLUMNS)
_CASE_KEYS = tuple(c.key for c in CASE_COLUMNS)
#: What a work list shows of each task and its case.
LIST_COLUMNS = (
    _task.c.id,
    _task.c.case_no,
    _task.c.step_key,
    _task.c.step_name,
    _task.c.role,
    _task.c.status,
    _task.c.created_at,
    _task.c.completed_at,
    _task.c.handler_name,
    _task.c.decision,
    _task.c.opinion,
    _task.c.kind,
    _task.c.due_date.label("task_due_date"),
    _task.c.lead_task_id,
    _task.c.reminders,
    _case.c.item_code,
    _case.c.item_name,
    _case.c.applicant,
    _case.c.due_date,
)


# Hot statements are built once; values travel as parameters, so executing them builds no SQL
# expressions and reuses the compiled form.
_INSERT_TASK = _task.insert()
_INSERT_CASE = (
    insert(_case)
    .on_conflict_do_nothing(index_elements=[_case.c.case_no])
    .returning(_case.c.case_no, _version(_case).label("version"))
)
_COMPLETABLE = (
    _task.c.id == bindparam("task_id"),
    # The task is found by its primary key, whatever the statistics say. With ``=`` here the
    # planner may take ``ix_task_queue`` (org_code, status) and filter a unit's whole open work
    # list on the id: it does on tables not analyzed yet, and the connections keep that generic
    # plan. ``IS NOT DISTINCT FROM`` is the same test on these NOT NULL columns (the values are
    # never NULL) but is no index condition, so only the primary key can find the row.
    _task.c.status.is_not_distinct_from(TASK_OPEN),
    _task.c.org_code.is_not_distinct_from(bindparam("key_org_code")),
    # ``= ANY(array)``, not an expanding ``IN``: no SQL rendered per execution, one prepared form.
    _task.c.role == any_(bindparam("roles", type_=ARRAY(String()))),
    func.substr(_task.c.case_no, 1, func.length(bindparam("key_region_prefix", type_=String())))
    == bindparam("key_region_prefix"),
    # Nothing moves while the case is withdrawn or its clock stands still (挂起, 补正, 特殊程序).
    _case.c.status == CASE_IN_PROGRESS,
    _case.c.clock.is_(None),
)
#: The task's case, by its primary key whatever the statistics say. With the join written as
#: ``task.case_no = business_case.case_no``, a plan made while ``business_case`` looked empty (a
#: fresh database; prepared statements keep their generic plan on the connection) scans the whole
#: table for the one case, at every step, so steps slow down as cases accumulate. Here the case is
#: found by ``case_no = (the task's case_no, by the task's primary key)``, and the join itself is an
#: ``IS NOT DISTINCT FROM`` (the same test on these NOT NULL columns), which no index can serve.
_ITS_CASE = (
    _case.c.case_no
    == select(_task_by_id.c.case_no).where(_task_by_id.c.id == bindparam("task_id")).scalar_subquery(),
    _task.c.case_no.is_not_distinct_from(_case.c.case_no),
)


_COMPLETE_VALUES: dict[str, Any] = {
    name: bindparam(f"new_{name}")
    for name in ("status", "completed_at", "handler_id", "handler_name", "decision", "opinion")
}
_DECIDE_CASE = (
    update(_case)
    .where(_case.c.case_no == bindparam("key_case_no"))
    .values(
        status=bindparam("new_status"),
        outcome=bindparam("new_outcome"),
        decided_at=bindparam("new_decided_at"),
    )
)
_DONE_STEPS = (
    select(*TASK_COLUMNS)
    .where(_task.c.case_no == bindparam("for_case"), _task.c.status == TASK_DONE, _task.c.kind != KIND_ASSIST)
    .order_by(_task.c.completed_at, _task.c.id)
)
_INSERT_TASKS = _task.insert()
_CANCEL_OPEN_CTE = (
    update(_task)
    .where(_task.c.case_no == bindparam("key_case_no"), _task.c.status == TASK_OPEN)
    .values(status=TASK_CANCELLED, completed_at=bindparam("now"))
    .returning(_task.c.id)
    .cte("cancelled")
)
#: A data-modifying CTE runs whether or not it is read: the open tasks close as the done ones are read.
_CANCEL_AND_DONE = _DONE_STEPS.add_cte(_CANCEL_OPEN_CTE)
_gw: BindParameter[str] = bindparam("gateway", type_=String())
_arrivals = func.coalesce(sql_cast(_case.c.joins.op("->>")(_gw), Integer), 0) + 1
#: One more branch arrived at a parallel join: count it, or reset the count when it is the last.
#: The row lock of the UPDATE orders concurrent arrivals; RETURNING 0 means this one completed the join.
_ARRIVE = (
    update(_case)
    .where(_case.c.case_no == bindparam("key_case_no"))
    .values(
        joins=_case.c.joins.op("||")(
            func.jsonb_build_object(
                _gw,
                func.nullif(_arrivals, bindparam("need")),
            )
        )
    )
    .returning(_case.c.joins.op("->>")(_gw))
)
_CANCEL_ASSISTS = (
    update(_task)
    .where(_task.c.lead_task_id == bindparam("lead"), _task.c.status == TASK_OPEN)
    .values(status=TASK_CANCELLED, completed_at=bindparam("now"))
)
_CANCEL_OPEN = (
    update(_task)
    .where(_task.c.case_no == bindparam("key_case_no"), _task.c.status == TASK_OPEN)
    .values(status=TASK_CANCELLED, completed_at=bindparam("now"))
    .returning(_task.c.id)
)
_VISIBLE = (
    _task.c.org_code == bindparam("org_code"),
    _task.c.status == bindparam("status"),
    _task.c.role.in_(bindparam("roles", expanding=True)),
    # The region of a case is its 办件编号's first six characters (ADR 0004): the unit's
    # tasks in the staff member's region only (ADR 0105).
    func.substr(_task.c.case_no, 1, func.length(bindparam("region_prefix", type_=String())))
    == bindparam("region_prefix"),
)
_LIST_VISIBLE = (
    select(*LIST_COLUMNS)
    .join_from(_task, _case, _task.c.case_no == _case.c.case_no)
    .where(*_VISIBLE)
    .order_by(_task.c.created_at, _task.c.id)
    .offset(bindparam("offset"))
    .limit(bindparam("limit"))
)
_COUNT_VISIBLE = select(func.count()).select_from(_task).where(*_VISIBLE)


# The hot path's combined statements: each writes what one step of a command writes, in one
# round trip. Parameters are prefixed per table (and per row), so the statements of one
# combined statement never share a name.
_outbox = messaging.outbox
_decision = cast(Table, Decision.__table__)
_licence = cast(Table, ELicence.__table__)
_counter = cast(Table, Counter.__table__)
#: The outbox columns a new row carries (``outbox_row``'s keys).
_OUTBOX_KEYS = ("event_id", "subject", "payload", "created_at", "attempts")


def _binds(columns: Sequence[Column[Any]], prefix: str) -> dict[str, BindParameter[Any]]:
    return {c.key: bindparam(f"{prefix}{c.key}", type_=c.type) for c in columns}


def _prefixed(values: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    return {f"{prefix}{k}": v for k, v in values.items()}


def _completing(
    task_id: uuid.UUID, org_code: str, region_prefix: str, roles: Collection[str], values: Mapping[str, Any]
) -> dict[str, Any]:
    """The parameters of :data:`_COMPLETABLE` and ``_COMPLETE_VALUES``: which task, for whom, set to what."""
    return {
        "task_id": task_id,
        "key_org_code": org_code,
        "key_region_prefix": region_prefix,
        "roles": sorted(roles),
        **{f"new_{k}": v for k, v in values.items()},
    }


def _insert_rows(table: Table, columns: Sequence[Column[Any]], n: int, prefix: str) -> PgInsert:
    """``INSERT`` of ``n`` rows whose values are parameters ``{prefix}{i}_{column}``.

    Several rows as ``INSERT … SELECT … UNION ALL SELECT …``: a multi-row ``VALUES`` cannot be
    cached by SQLAlchemy, so it would be compiled again at every execution.
    """
    if n == 1:
        return insert(table).values(_binds(columns, f"{prefix}0_"))
    rows = [select(*_binds(columns, f"{prefix}{i}_").values()) for i in range(n)]
    return insert(table).from_select([c.key for c in columns], union_all(*rows))


def _insert_event() -> Insert:
    return insert(_outbox).values(_binds([_outbox.c[k] for k in _OUTBOX_KEYS], "o_"))


@lru_cache(maxsize=32)
def _open_and_publish(n: int) -> DriverStatement:
    """``n`` new tasks and one outbox row (a step completed: the next steps open, the event goes out).

    Rows: each new task's id and version.
    """
    event = _insert_event()
    if n == 0:
        return DriverStatement(event)
    opened = _insert_rows(_task, TASK_COLUMNS, n, "t").returning(_task.c.id, _version(_task).label("version"))
    opened_cte = opened.cte("opened")
    return DriverStatement(select(opened_cte.c.id, opened_cte.c.version).add_cte(event.cte("published")))


@lru_cache(maxsize=32)
def _complete_known(n: int) -> DriverStatement:
    """Complete a task as it was known, open the ``n`` next tasks and write the step's event: one statement.

    The task and its case must still be the row versions given (``task_version``, ``case_version``),
    and the task completable as :data:`_COMPLETABLE` says. The next tasks and the event were made from
    those versions, so they are written only if the completing UPDATE matched. Returns no row
    otherwise, and then it has written nothing; else each new task's id and version. Nothing else
    is read back: at those versions, the rows are what the caller knows.
    """
    done = (
        update(_task)
        .where(
            *_COMPLETABLE,
            *_ITS_CASE,
            _version(_task) == bindparam("task_version", type_=String()),
            _version(_case) == bindparam("case_version", type_=String()),
        )
        .values(_COMPLETE_VALUES)
        .returning(_task.c.id)
        .cte("done")
    )
    rows = [select(*_binds(TASK_COLUMNS, f"t{i}_").values()).select_from(done) for i in range(n)]
    opened = (
        insert(_task)
        .from_select(list(_TASK_KEYS), rows[0] if n == 1 else union_all(*rows))
        .returning(_task.c.id, _version(_task).label("version"))
        .cte("opened")
    )
    event = select(*_binds([_outbox.c[k] for k in _OUTBOX_KEYS], "o_").values()).select_from(done)
    published = insert(_outbox).from_select(list(_OUTBOX_KEYS), event).cte("published")
    return DriverStatement(select(opened.c.id, opened.c.version).add_cte(published))


@lru_cache(maxsize=32)
def _arrive_and_publish(n: int) -> DriverStatement:
    """A branch arrives at a join (as ``_ARRIVE``); if last, ``n`` tasks open; the step's event either way.

    The outbox row's payload is the one for the outcome the counting UPDATE found (``a_``: last
    arrival, the steps behind the join open; ``b_``: the join waits); both share one event id.
    Returns one row: true when this arrival completed the join.
    """
    arrived = _ARRIVE.cte("arrived")
    (waiting,) = arrived.c
    last = waiting.is_(None)
    rows = [
        select(*_binds(TASK_COLUMNS, f"t{i}_").values()).select_from(arrived).where(last) for i in range(n)
    ]
    stmt = select(last.label("last"))
    if n:
        opened = insert(_task).from_select(list(_TASK_KEYS), rows[0] if n == 1 else union_all(*rows))
        stmt = stmt.add_cte(opened.cte("opened"))
    payload = case(
        (last, bindparam("a_payload", type_=_outbox.c.payload.type)),
        else_=bindparam("b_payload", type_=_outbox.c.payload.type),
    )
    event = select(
        *_binds([_outbox.c.event_id, _outbox.c.subject], "o_").values(),
        payload,
        *_binds([_outbox.c.created_at, _outbox.c.attempts], "o_").values(),
    ).select_from(arrived)
    published = insert(_outbox).from_select(list(_OUTBOX_KEYS), event)
    return DriverStatement(stmt.add_cte(published.cte("published")))


@lru_cache(maxsize=32)
def _take_over(n: int) -> DriverStatement:
    """A new case, unless its 办件编号 is already here, and its ``n`` first tasks only if it was new."""
    case = (
        insert(_case)
        .values(_binds(tuple(_case.c), "c_"))
        .on_conflict_do_nothing(index_elements=[_case.c.case_no])
        .returning(_case.c.case_no, _version(_case).label("version"))
        .cte("taken")
    )
    rows = [select(*_binds(TASK_COLUMNS, f"t{i}_").values()).select_from(case) for i in range(n)]
    source = rows[0] if n == 1 else union_all(*rows)
    opened = (
        insert(_task)
        .from_select(list(_TASK_KEYS), source)
        .returning(_task.c.id, _version(_task).label("version"))
        .cte("opened")
    )
    # Rows: each new task's id and version, with the new case's version.
    return DriverStatement(select(opened.c.id, opened.c.version, case.c.version).select_from(opened, case))


@lru_cache(maxsize=4)
def _numbered_done_steps(counters: int, cancel_open: bool) -> Any:
    """Draw ``counters`` numbers (upserts, locked until commit) and read the done steps, in one statement."""
    drawn = (
        _insert_rows(
            _counter, [_counter.c.name, _counter.c.scope, _counter.c.period, _counter.c.value], counters, "n"
        )
        .on_conflict_do_update(
            index_elements=[_counter.c.name, _counter.c.scope, _counter.c.period],
            set_={"value": _counter.c.value + 1},
        )
        .returning(_counter.c.name, _counter.c.value)
        .cte("drawn")
    )
    serials = select(func.jsonb_object_agg(drawn.c.name, drawn.c.value, type_=JSONB)).scalar_subquery()
    stmt = _DONE_STEPS.add_columns(serials.label("serials"))
    return stmt.add_cte(_CANCEL_OPEN_CTE) if cancel_open else stmt


@lru_cache(maxsize=4)
def _record_decision(with_licence: bool, cancel_open: bool = False) -> DriverStatement:
    """The decision (and licence), the case decided and the CaseDecided outbox row, in one statement.

    With ``cancel_open`` the case's tasks still open (other branches) close in it too.
    """
    stmt = _insert_event().add_cte(insert(_decision).values(_binds(tuple(_decision.c), "d_")).cte("decided"))
    if cancel_open:
        stmt = stmt.add_cte(_CANCEL_OPEN_CTE)
    if with_licence:
        stmt = stmt.add_cte(insert(_licence).values(_binds(tuple(_licence.c), "l_")).cte("licensed"))
    case = (
        update(_case)
        .where(_case.c.case_no == bindparam("key_case_no"))
        .values(
            status=bindparam("new_status"),
            outcome=bindparam("new_outcome"),
            decided_at=bindparam("new_decided_at"),
        )
    )
    return DriverStatement(stmt.add_cte(case.cte("case_decided")))


#: The completed task is its case's 决定 step: a lead (not an assisting) task whose key is a step of
#: kind ``decide`` in the case's snapshot, the test ``TaskService.complete`` makes on the compiled graph.
_DECIDING = (
    (_task.c.kind != KIND_ASSIST)
    & _case.c.workflow["steps"].contains(
        func.jsonb_build_array(
            func.jsonb_build_object(
                literal("key", String()),
                _task.c.step_key,
                literal("kind", String()),
                literal("decide", String()),
            )
        )
    )
).label("deciding")


def _complete_and_number() -> Any:
    """Complete a task and read its case; on a 决定 step also draw its numbers and read the done steps.

    One statement for what was two on the decision: the 决定书 counter (the case's unit, the year
    ``decision_period``) and, when ``approve`` and the snapshot names a licence type, the 证照
    counter (``licence_scope``/``licence_period``) are drawn only if the completing UPDATE matched
    a 决定 step, locked until commit as before. Rows: the completed task with its case and the
    numbers drawn (``serials``, NULL when none), then the case's earlier completed steps (not the
    assistants'), in the order they finished. The earlier steps are read in the statement's
    snapshot, in which the completed task is still open.
    """
    done = (
        update(_task)
        .where(*_COMPLETABLE, *_ITS_CASE)
        .values(_COMPLETE_VALUES)
        .returning(
            *TASK_COLUMNS,
            *(c.label(f"case_{c.key}") for c in CASE_COLUMNS),
            _DECIDING,
            _version(_case).label("case_version"),
        )
        .cte("done")
    )
    d = done.c
    workflow = d["case_workflow"]
    licensed = (
        d.deciding
        & bindparam("approve", type_=Boolean())
        & workflow["licence_type_code"].astext.is_not(None)
        & workflow["licence_type_name"].astext.is_not(None)
    )
    numbers = union_all(
        select(
            literal("decision", String()),
            d["case_org_code"],
            bindparam("decision_period", type_=String()),
            literal(1),
        ).where(d.deciding),
        select(
            literal("licence", String()),
            bindparam("licence_scope", type_=String()),
            bindparam("licence_period", type_=String()),
            literal(1),
        ).where(licensed),
    )
    drawn = (
        insert(_counter)
        .from_select([_counter.c.name, _counter.c.scope, _counter.c.period, _counter.c.value], numbers)
        .on_conflict_do_update(
            index_elements=[_counter.c.name, _counter.c.scope, _counter.c.period],
            set_={"value": _counter.c.value + 1},
        )
        .returning(_counter.c.name, _counter.c.value)
        .cte("drawn")
    )
    serials = select(func.jsonb_object_agg(drawn.c.name, drawn.c.value, type_=JSONB)).scalar_subquery()
    head = select(
        *(d[c.key] for c in TASK_COLUMNS),
        *(d[f"case_{c.key}"] for c in CASE_COLUMNS),
        serials.label("serials"),
        d.case_version,
        literal(0).label("part"),
    )
    earlier = (
        select(
            *TASK_COLUMNS,
            *(null().label(f"case_{c.key}") for c in CASE_COLUMNS),
            null().label("serials"),
            null().label("case_version"),
            literal(1).label("part"),
        )
        .join_from(_task, done, _task.c.case_no == d.case_no)
        .where(d.deciding, _task.c.status == TASK_DONE, _task.c.kind != KIND_ASSIST)
    )
    both = union_all(head, earlier)
    cols = both.selected_columns
    return both.order_by(cols.part, cols.completed_at, cols.id)


_COMPLETE_AND_NUMBER = DriverStatement(_complete_and_number())


@dataclass(frozen=True)
class Completed:
    """A task just completed, its case and, on a 决定 step, the numbers drawn and the earlier steps."""

    task: Task
    case: BusinessCase
    #: Counter name → value drawn, when the task is its case's 决定 step; None otherwise.
    serials: dict[str, int] | None
    #: The case's steps completed before this one, in the order they finished (决定 step only).
    earlier: list[Task]
    #: The case row's version (``_version``) as the statement found it.
    case_version: str


@dataclass(frozen=True)
class Written:
    """The versions (``_version``) of a case and tasks a statement wrote."""

    case_version: str
    #: Task id → its row's version.
    tasks: dict[uuid.UUID, str]


def task_from_row(row: Sequence[Any], offset: int = 0) -> Task:
    """Build a transient ``Task`` (never added to a session) from ``TASK_COLUMNS`` at ``offset`` of a row."""
    return transient(Task, dict(zip(_TASK_KEYS, row[offset : offset + len(_TASK_KEYS)], strict=True)))


def case_from_row(row: Sequence[Any], offset: int = 0) -> BusinessCase:
    """Build a transient ``BusinessCase`` from ``CASE_COLUMNS`` at ``offset`` of a row."""
    return transient(BusinessCase, dict(zip(_CASE_KEYS, row[offset : offset + len(_CASE_KEYS)], strict=True)))


class CaseRepository(RepositoryBase[BusinessCase]):
    """Reads and writes ``business_case``."""

    model = BusinessCase

    async def insert_unless_taken(self, case: BusinessCase) -> str | None:
        """Insert a new case (never added to the session) unless its 办件编号 is already here.

        Returns the new row's version (``_version``), None when the case was here already.
        """
        row = await self.first_row(_INSERT_CASE, column_values(case))
        return None if row is None else str(row.version)

    async def get(self, case_no: str) -> BusinessCase | None:
        """Return a case by its 办件编号."""
        return await self.get_by_id(case_no)

    async def get_for_update(self, case_no: str) -> BusinessCase | None:
        """Return a case locked until commit (tracked): every command but completing a step takes it."""
        stmt = self.get_base_statement().where(BusinessCase.case_no == case_no).with_for_update()
        return await self.get_one_or_none(stmt)

    async def running_of_version(
        self, item_code: str, version: int, case_nos: Sequence[str] | None
    ) -> Sequence[BusinessCase]:
        """Running cases of an item that follow one version of its process, locked."""
        stmt = self.get_base_statement().where(
            BusinessCase.item_code == item_code,
            BusinessCase.status == CASE_IN_PROGRESS,
            BusinessCase.workflow["version"].as_integer() == version,
        )
        if case_nos is not None:
            stmt = stmt.where(BusinessCase.case_no.in_(case_nos))
        return await self.get_all(stmt.order_by(BusinessCase.case_no).with_for_update())

    async def decide(self, case_no: str, values: Mapping[str, Any]) -> None:
        """Record a case's decision."""
        params = {"key_case_no": case_no, **{f"new_{k}": v for k, v in values.items()}}
        await self.execute(_DECIDE_CASE, params)


class TaskRepository(RepositoryBase[Task]):
    """Reads and writes ``task`` (with the columns of its case that handling needs)."""

    model = Task

    async def insert(self, task: Task) -> None:
        """Insert a new task (never added to the session) with one prebuilt ``INSERT``."""
        await self.execute(_INSERT_TASK, column_values(task))

    async def get_with_case(
        self, task_id: uuid.UUID, *, lock: bool = False
    ) -> tuple[Task, BusinessCase] | None:
        """Return a task and its case in one query; ``lock`` holds the task row until commit."""
        stmt = select(Task, BusinessCase).join(BusinessCase, Task.case_no == BusinessCase.case_no)
        stmt = stmt.where(Task.id == task_id)
        if lock:
            stmt = stmt.with_for_update(of=Task)
        # The session's own execute keeps the statement's (Task, BusinessCase) row type.
        row = (await self.session.execute(stmt)).first()
        return None if row is None else (row[0], row[1])

    async def complete_open(
        self,
        task_id: uuid.UUID,
        *,
        org_code: str,
        region_prefix: str,
        roles: Collection[str],
        values: Mapping[str, Any],
        decision_period: str,
        licence: tuple[str, str, str] | None,
    ) -> Completed | None:
        """Mark an open task of the unit in the region, for one of the posts, done; return it and its case.

        None when no such open task exists (the caller finds out why). The row stays locked
        until commit, so a concurrent completion of the same task waits and then finds it done.
        When the task is its case's 决定 step, the same statement draws the 决定书 number
        (counter ``("decision", <the case's unit>, decision_period)``) and, with ``licence``
        (the 证照 counter of an approval), the licence number if the snapshot issues one, and
        reads the steps completed before it (:class:`Completed`).
        """
        if licence is not None and licence[0] != "licence":
            raise ValueError("the licence counter is named licence")
        params = {
            **_completing(task_id, org_code, region_prefix, roles, values),
            "decision_period": decision_period,
            "approve": licence is not None,
            "licence_scope": None if licence is None else licence[1],
            "licence_period": None if licence is None else licence[2],
        }
        rows = await _COMPLETE_AND_NUMBER.fetch(self.session, params)
        if not rows:
            return None
        head = rows[0]
        serials: dict[str, int] | None = head[len(TASK_COLUMNS) + len(CASE_COLUMNS)]
        return Completed(
            task=task_from_row(head),
            case=case_from_row(head, len(TASK_COLUMNS)),
            serials=serials,
            earlier=[task_from_row(r) for r in rows[1:]],
            case_version=str(head[len(TASK_COLUMNS) + len(CASE_COLUMNS) + 1]),
        )

    async def take_over(self, case: BusinessCase, tasks: Sequence[Task]) -> Written | None:
        """Insert a new case and its first tasks in one statement, unless its 办件编号 is already here.

        Returns the versions of the rows written; None when the case was here already: it is left
        as it is, and no task is added.
        """
        if not tasks:
            version = await CaseRepository.from_session(self.session).insert_unless_taken(case)
            return None if version is None else Written(case_version=version, tasks={})
        params = _prefixed(column_values(case), "c_")
        for i, task in enumerate(tasks):
            params.update(_prefixed(column_values(task), f"t{i}_"))
        rows = await _take_over(len(tasks)).fetch(self.session, params)
        if not rows:
            return None
        return Written(case_version=str(rows[0][2]), tasks={r[0]: str(r[1]) for r in rows})

    async def open_and_publish(self, tasks: Sequence[Task], event: Mapping[str, Any]) -> dict[uuid.UUID, str]:
        """Insert the tasks that open and the step's outbox row (``outbox_row``) in one statement.

        Returns each new task's version.
        """
        params = _prefixed(event, "o_")
        for i, task in enumerate(tasks):
            params.update(_prefixed(column_values(task), f"t{i}_"))
        rows = await _open_and_publish(len(tasks)).fetch(self.session, params)
        return {r[0]: str(r[1]) for r in rows}

    async def complete_known(
        self,
        task_id: uuid.UUID,
        *,
        task_version: str,
        case_version: str,
        org_code: str,
        region_prefix: str,
        roles: Collection[str],
        values: Mapping[str, Any],
        tasks: Sequence[Task],
        event: Mapping[str, Any],
    ) -> dict[uuid.UUID, str] | None:
        """Complete a task still at the versions known, open ``tasks`` and write ``event``: one statement.

        As :meth:`complete_open` for which task may be completed, by whom. ``tasks`` (at least one)
        and the outbox row ``event`` were made from the known versions. When the unit of work has
        run nothing yet, the statement is its own transaction (``DriverStatement.fetch(alone=True)``).
        Returns each new task's version; None (nothing written) when the task is not completable or
        either row changed since, and the caller goes the long way.
        """
        if not tasks:
            raise ValueError("a known completion opens the next step")
        params: dict[str, Any] = {
            **_completing(task_id, org_code, region_prefix, roles, values),
            "task_version": task_version,
            "case_version": case_version,
            **_prefixed(event, "o_"),
        }
        for i, task in enumerate(tasks):
            params.update(_prefixed(column_values(task), f"t{i}_"))
        rows = await _complete_known(len(tasks)).fetch(self.session, params, alone=True)
        return {r[0]: str(r[1]) for r in rows} if rows else None

    async def arrive_and_publish(
        self,
        case_no: str,
        gateway: str,
        need: int,
        tasks: Sequence[Task],
        *,
        if_last: Mapping[str, Any],
        if_waiting: Mapping[str, Any],
    ) -> bool:
        """Count a branch arriving at a join, open ``tasks`` if it is the last, write the event: one statement.

        ``if_last`` and ``if_waiting`` are the outbox rows (``outbox_row``) of the two outcomes,
        with one event id; the row of the outcome found is written. True when the join completed.
        """
        if if_last["event_id"] != if_waiting["event_id"] or if_last["subject"] != if_waiting["subject"]:
            raise ValueError("the two outcomes are one event: same id and subject")
        params: dict[str, Any] = {
            "key_case_no": case_no,
            "gateway": gateway,
            "need": need,
            **_prefixed(if_last, "o_"),
            "a_payload": if_last["payload"],
            "b_payload": if_waiting["payload"],
        }
        for i, task in enumerate(tasks):
            params.update(_prefixed(column_values(task), f"t{i}_"))
        rows = await _arrive_and_publish(len(tasks)).fetch(self.session, params)
        return bool(rows) and bool(rows[0][0])

    async def numbered_done_steps(
        self, case_no: str, counters: Sequence[tuple[str, str, str]], *, cancel_open_at: datetime | None
    ) -> tuple[list[Task], list[int]]:
        """Draw the next value of each counter and return the case's completed steps, in one statement.

        The counters (distinct; ``CounterRepository.next_values`` semantics: created at 1, rows
        locked in the order given until commit) and the steps as :meth:`done_steps`, which the
        caller has just added to (so at least one row comes back). With ``cancel_open_at`` the
        case's open tasks close in the same statement.
        """
        if len({name for name, _, _ in counters}) != len(counters):
            raise ValueError("counters of one statement need distinct names")
        params: dict[str, Any] = {"for_case": case_no}
        if cancel_open_at is not None:
            params.update({"key_case_no": case_no, "now": cancel_open_at})
        for i, (name, scope, period) in enumerate(counters):
            params.update(
                {f"n{i}_name": name, f"n{i}_scope": scope, f"n{i}_period": period, f"n{i}_value": 1}
            )
        stmt = _numbered_done_steps(len(counters), cancel_open_at is not None)
        rows = await self.rows(stmt, params)
        if not rows:
            raise LookupError(f"办件 {case_no} 没有已办结的环节 (no completed step to decide on)")
        serials: dict[str, int] = rows[0][len(TASK_COLUMNS)]
        return [task_from_row(r) for r in rows], [int(serials[name]) for name, _, _ in counters]

    async def record_decision(
        self,
        decision: Decision,
        licence: ELicence | None,
        *,
        case_values: Mapping[str, Any],
        event: Mapping[str, Any],
        cancel_open_at: datetime | None = None,
    ) -> None:
        """Insert the decision (and licence), mark the case decided and write its event, in one statement.

        With ``cancel_open_at`` the case's open tasks close in the same statement.
        """
        params = {
            **_prefixed(column_values(decision), "d_"),
            **_prefixed(event, "o_"),
            "key_case_no": decision.case_no,
            **_prefixed(case_values, "new_"),
        }
        if licence is not None:
            params.update(_prefixed(column_values(licence), "l_"))
        if cancel_open_at is not None:
            params["now"] = cancel_open_at
        await _record_decision(licence is not None, cancel_open_at is not None).execute(self.session, params)

    async def insert_many(self, tasks: Sequence[Task]) -> None:
        """Insert new tasks (never added to the session) with one prebuilt ``INSERT``."""
        if len(tasks) == 1:
            await self.execute(_INSERT_TASK, column_values(tasks[0]))
        elif tasks:
            await self.execute(_INSERT_TASKS, [column_values(t) for t in tasks])

    async def done_steps(self, case_no: str, *, cancel_open_at: datetime | None = None) -> list[Task]:
        """Return a case's completed steps (not the assistants' opinions), in the order they finished.

        With ``cancel_open_at`` the case's open tasks are closed in the same statement (a decision).
        """
        if cancel_open_at is None:
            rows = await self.rows(_DONE_STEPS, {"for_case": case_no})
        else:
            rows = await self.rows(
                _CANCEL_AND_DONE, {"for_case": case_no, "key_case_no": case_no, "now": cancel_open_at}
            )
        return [task_from_row(r) for r in rows]

    async def arrive(self, case_no: str, gateway: str, need: int) -> bool:
        """Count a branch arriving at a parallel join; True when it is the last of ``need``."""
        row = await self.first_row(_ARRIVE, {"key_case_no": case_no, "gateway": gateway, "need": need})
        return row is not None and row[0] is None

    async def cancel_assists(self, lead_task_id: uuid.UUID, now: datetime) -> None:
        """Close the assisting tasks still open when their lead completes."""
        await self.execute(_CANCEL_ASSISTS, {"lead": lead_task_id, "now": now})

    async def cancel_open(self, case_no: str, now: datetime) -> list[uuid.UUID]:
        """Close every open task of a case (退回, 撤回, a decision); return their ids."""
        return [r[0] for r in await self.rows(_CANCEL_OPEN, {"key_case_no": case_no, "now": now})]

    async def open_for_case(self, case_no: str) -> Sequence[Task]:
        """Return a case's open tasks (tracked, to be changed through ``update``)."""
        stmt = self.get_base_statement().where(Task.case_no == case_no, Task.status == TASK_OPEN)
        return await self.get_all(stmt.order_by(Task.created_at, Task.id))

    async def has_done_step(self, case_no: str, step_key: str) -> bool:
        """Tell whether a step of the case was completed before (a 退回 may only go back)."""
        stmt = select(literal(1)).where(
            Task.case_no == case_no, Task.step_key == step_key, Task.status == TASK_DONE
        )
        return (await self.execute(stmt.limit(1))).first() is not None

    async def assists_of(self, lead_task_id: uuid.UUID) -> Sequence[Task]:
        """Return the assisting tasks (协办) of a lead task."""
        stmt = self.get_base_statement().where(Task.lead_task_id == lead_task_id)
        return await self.get_all(stmt.order_by(Task.created_at, Task.id))

    async def get_for_update(self, task_id: uuid.UUID) -> Task | None:
        """Return a task, locked until commit (tracked)."""
        return await self.get_one_or_none(
            self.get_base_statement().where(Task.id == task_id).with_for_update()
        )

    async def overdue(self, today: date, limit: int) -> Sequence[Task]:
        """Open tasks whose step limit passed before ``today`` and whose timer has not fired, locked.

        Tasks of a case whose clock stands still are left out: its due dates move on resume.
        SKIP LOCKED lets two sweeps share the work.
        """
        stmt = (
            self.get_base_statement()
            .join(BusinessCase, Task.case_no == BusinessCase.case_no)
            .where(
                Task.status == TASK_OPEN,
                Task.timer_fired_at.is_(None),
                Task.due_date < today,
                BusinessCase.status == CASE_IN_PROGRESS,
                BusinessCase.clock.is_(None),
            )
            .order_by(Task.due_date, Task.id)
            .limit(limit)
            .with_for_update(of=Task, skip_locked=True)
        )
        return await self.get_all(stmt)

    async def list_visible(
        self,
        *,
        org_code: str,
        region_prefix: str,
        roles: Collection[str],
        status: str,
        offset: int,
        limit: int,
    ) -> tuple[Sequence[Any], int]:
        """Return one page of a unit's tasks in a region for the given posts, oldest first, and the total."""
        params: dict[str, Any] = {
            "org_code": org_code,
            "region_prefix": region_prefix,
            "status": status,
            "roles": sorted(roles),
        }
        rows = await self.rows(_LIST_VISIBLE, {**params, "offset": offset, "limit": limit})
        if len(rows) < limit and (rows or offset == 0):
            # A page that is not full is the last one: no need to count.
            return rows, offset + len(rows)
        total = (await self.execute(_COUNT_VISIBLE, params)).scalar_one()
        return rows, int(total)

    async def list_for_case(self, case_no: str) -> Sequence[Task]:
        """Return a case's tasks in the order they opened."""
        return await self.get_all(
            self.get_base_statement()
            .where(Task.case_no == case_no)
            .order_by(Task.created_at, Task.position, Task.id)
        )


class CaseLogRepository(RepositoryBase[CaseLog]):
    """Reads and writes ``case_log`` (办理日志)."""

    model = CaseLog

    async def add(self, entry: CaseLog) -> None:
        """Append an entry."""
        await self.create(entry)

    async def for_case(self, case_no: str) -> Sequence[CaseLog]:
        """Return a case's log, oldest first."""
        stmt = self.get_base_statement().where(CaseLog.case_no == case_no)
        return await self.get_all(stmt.order_by(CaseLog.at, CaseLog.id))


#: One key for the timer sweep's transaction-level advisory lock (pg_try_advisory_xact_lock).
TIMER_SWEEP_LOCK_KEY = 0x59_57_42_54_4D  # "YWBTM"


class TimerSweepRepository(RepositoryBase[TimerSweep]):
    """定时器巡检: who swept which tick, and the lock that keeps a second replica out."""

    model = TimerSweep

    async def try_lock(self) -> bool:
        """Take the sweep's advisory lock for this transaction; False when another replica holds it."""
        return bool(await self.session.scalar(select(func.pg_try_advisory_xact_lock(TIMER_SWEEP_LOCK_KEY))))

    async def tick_done(self, tick: int) -> bool:
        """Has a sweep of this tick committed?"""
        return await self.session.get(TimerSweep, tick) is not None

    async def record(self, values: Mapping[str, Any]) -> None:
        """The tick is swept (committed with what it fired; a second insert of the tick fails)."""
        await self.session.execute(insert(cast(Table, TimerSweep.__table__)).values(dict(values)))

    async def last(self, limit: int = 10) -> Sequence[TimerSweep]:
        """The latest sweeps, newest first."""
        statement = select(TimerSweep).order_by(TimerSweep.tick.desc()).limit(limit)
        return list(await self.session.scalars(statement))
