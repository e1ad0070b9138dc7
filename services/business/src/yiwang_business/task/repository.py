"""Queries of business cases and tasks.

Completing a step is the hot path: it reads and writes with prebuilt Core statements only, and
the ``Task``/``BusinessCase`` it returns are plain value objects built from the returned row,
never attached to the session. Reads for display (``get``, ``get_with_case``, ``list_for_case``)
use the ORM and write nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Row, String, Table, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert

from yiwang_business.db import column_values
from yiwang_business.task.models import TASK_OPEN, BusinessCase, Task
from yiwang_common.db.repository import RepositoryBase

_task = cast(Table, Task.__table__)
_case = cast(Table, BusinessCase.__table__)

#: Task columns, in the order the ``Task`` constructor takes them by name.
TASK_COLUMNS = tuple(_task.c)
#: Case columns handling a task needs (all but the materials list).
CASE_COLUMNS = tuple(c for c in _case.c if c.name != "materials")
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
    _case.c.item_code,
    _case.c.item_name,
    _case.c.applicant,
    _case.c.due_date,
)


# Hot statements are built once; values travel as parameters, so executing them builds no SQL
# expressions and reuses the compiled form.
_INSERT_TASK = _task.insert()
_INSERT_CASE = (
    insert(_case).on_conflict_do_nothing(index_elements=[_case.c.case_no]).returning(_case.c.case_no)
)
_COMPLETABLE = (
    _task.c.id == bindparam("task_id"),
    _task.c.status == TASK_OPEN,
    _task.c.org_code == bindparam("key_org_code"),
    _task.c.role.in_(bindparam("roles", expanding=True)),
    func.substr(_task.c.case_no, 1, func.length(bindparam("key_region_prefix", type_=String())))
    == bindparam("key_region_prefix"),
)
_COMPLETE_VALUES: dict[str, Any] = {
    name: bindparam(f"new_{name}")
    for name in ("status", "completed_at", "handler_id", "handler_name", "decision", "opinion")
}
#: Complete and read the case in one statement.
_COMPLETE_WITH_CASE = (
    update(_task)
    .where(*_COMPLETABLE, _task.c.case_no == _case.c.case_no)
    .values(_COMPLETE_VALUES)
    .returning(*TASK_COLUMNS, *CASE_COLUMNS)
)
_DECIDE_CASE = (
    update(_case)
    .where(_case.c.case_no == bindparam("key_case_no"))
    .values(
        status=bindparam("new_status"),
        outcome=bindparam("new_outcome"),
        decided_at=bindparam("new_decided_at"),
    )
)
_TASKS_BEFORE = (
    select(*TASK_COLUMNS)
    .where(_task.c.case_no == bindparam("case_no"), _task.c.position < bindparam("position"))
    .order_by(_task.c.position)
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


def task_from_row(row: Row[Any], offset: int = 0) -> Task:
    """Build a transient ``Task`` (never added to a session) from ``TASK_COLUMNS`` at ``offset`` of a row."""
    return Task(**{c.key: row[offset + i] for i, c in enumerate(TASK_COLUMNS)})


def case_from_row(row: Row[Any], offset: int = 0) -> BusinessCase:
    """Build a transient ``BusinessCase`` from ``CASE_COLUMNS`` at ``offset`` of a row."""
    return BusinessCase(**{c.key: row[offset + i] for i, c in enumerate(CASE_COLUMNS)})


class CaseRepository(RepositoryBase[BusinessCase]):
    """Reads and writes ``business_case``."""

    model = BusinessCase

    async def insert_unless_taken(self, case: BusinessCase) -> bool:
        """Insert a new case (never added to the session) unless its 办件编号 is already here; True if inserted."""
        return (await self.execute(_INSERT_CASE, column_values(case))).first() is not None

    async def get(self, case_no: str) -> BusinessCase | None:
        """Return a case by its 办件编号."""
        return await self.get_by_id(case_no)

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
    ) -> tuple[Task, BusinessCase] | None:
        """Mark an open task of the unit in the region, for one of the posts, done; return it and its case.

        None when no such open task exists (the caller finds out why). The row stays locked
        until commit, so a concurrent completion of the same task waits and then finds it done.
        """
        params = {
            "task_id": task_id,
            "key_org_code": org_code,
            "key_region_prefix": region_prefix,
            "roles": sorted(roles),
            **{f"new_{k}": v for k, v in values.items()},
        }
        row = await self.first_row(_COMPLETE_WITH_CASE, params)
        if row is None:
            return None
        return task_from_row(row), case_from_row(row, len(TASK_COLUMNS))

    async def tasks_before(self, case_no: str, position: int) -> list[Task]:
        """Return a case's tasks before a step, in step order."""
        rows = await self.rows(_TASKS_BEFORE, {"case_no": case_no, "position": position})
        return [task_from_row(r) for r in rows]

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
        """Return a case's tasks in step order."""
        return await self.get_all(
            self.get_base_statement().where(Task.case_no == case_no).order_by(Task.position)
        )
