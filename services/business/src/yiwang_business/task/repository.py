"""Queries of business cases and tasks."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_business.task.models import BusinessCase, Task


class TaskRepository:
    """Reads and writes ``business_case`` and ``task``."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def case_exists(self, case_no: str) -> bool:
        """Tell whether a case was already taken over."""
        stmt = select(BusinessCase.case_no).where(BusinessCase.case_no == case_no)
        return (await self.session.execute(stmt)).first() is not None

    async def get_case(self, case_no: str) -> BusinessCase | None:
        """Return a case by its 办件编号."""
        return await self.session.get(BusinessCase, case_no)

    async def get_with_case(
        self, task_id: uuid.UUID, *, lock: bool = False
    ) -> tuple[Task, BusinessCase] | None:
        """Return a task and its case in one query; ``lock`` holds the task row until commit."""
        stmt = select(Task, BusinessCase).join(BusinessCase, Task.case_no == BusinessCase.case_no)
        stmt = stmt.where(Task.id == task_id)
        if lock:
            stmt = stmt.with_for_update(of=Task)
        row = (await self.session.execute(stmt)).first()
        return None if row is None else (row[0], row[1])

    async def list_visible(
        self, *, org_code: str, roles: Collection[str], status: str, offset: int, limit: int
    ) -> tuple[Sequence[tuple[Task, BusinessCase]], int]:
        """Return one page of a unit's tasks for the given posts, oldest first, and how many there are."""
        where = (Task.org_code == org_code, Task.status == status, Task.role.in_(sorted(roles)))
        total = (
            await self.session.execute(select(func.count()).select_from(Task).where(*where))
        ).scalar_one()
        stmt = (
            select(Task, BusinessCase)
            .join(BusinessCase, Task.case_no == BusinessCase.case_no)
            .where(*where)
            .order_by(Task.created_at, Task.id)
            .offset(offset)
            .limit(limit)
        )
        rows = (await self.session.execute(stmt)).all()
        return [(r[0], r[1]) for r in rows], int(total)

    async def list_for_case(self, case_no: str) -> Sequence[Task]:
        """Return a case's tasks in step order."""
        stmt = select(Task).where(Task.case_no == case_no).order_by(Task.position)
        return (await self.session.execute(stmt)).scalars().all()

    def add(self, *objects: BusinessCase | Task) -> None:
        """Stage new rows."""
        self.session.add_all(objects)
