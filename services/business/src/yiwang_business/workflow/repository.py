"""Queries of workflow definitions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_business.workflow.models import WorkflowDefinition

DEFAULT_ITEM = "*"


class WorkflowRepository:
    """Reads and writes ``workflow_definition``."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, item_code: str) -> WorkflowDefinition | None:
        """Return the definition stored for exactly this item."""
        return await self.session.get(WorkflowDefinition, item_code)

    async def get_for_update(self, item_code: str) -> WorkflowDefinition | None:
        """Return the item's stored definition, locked so that concurrent edits bump the version in turn."""
        stmt = select(WorkflowDefinition).where(WorkflowDefinition.item_code == item_code).with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def get_effective(self, item_code: str) -> WorkflowDefinition | None:
        """Return the item's own definition, else the stored default, in one query."""
        stmt = select(WorkflowDefinition).where(WorkflowDefinition.item_code.in_((item_code, DEFAULT_ITEM)))
        rows = {d.item_code: d for d in (await self.session.execute(stmt)).scalars()}
        return rows.get(item_code) or rows.get(DEFAULT_ITEM)

    async def list(self, *, offset: int, limit: int) -> tuple[Sequence[WorkflowDefinition], int]:
        """Return one page of stored definitions by item code, and how many there are."""
        total = (
            await self.session.execute(select(func.count()).select_from(WorkflowDefinition))
        ).scalar_one()
        stmt = select(WorkflowDefinition).order_by(WorkflowDefinition.item_code).offset(offset).limit(limit)
        return (await self.session.execute(stmt)).scalars().all(), int(total)

    async def has_default(self) -> bool:
        """Tell whether a default (``*``) definition is stored."""
        return await self.get(DEFAULT_ITEM) is not None

    def add(self, definition: WorkflowDefinition) -> None:
        """Stage a new definition."""
        self.session.add(definition)
