"""Queries of workflow definitions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from yiwang_business.workflow.models import WorkflowDefinition
from yiwang_common.db.repository import RepositoryBase

DEFAULT_ITEM = "*"


class WorkflowRepository(RepositoryBase[WorkflowDefinition]):
    """Reads and writes ``workflow_definition``."""

    model = WorkflowDefinition

    async def get(self, item_code: str) -> WorkflowDefinition | None:
        """Return the definition stored for exactly this item."""
        return await self.get_by_id(item_code)

    async def get_for_update(self, item_code: str) -> WorkflowDefinition | None:
        """Return the item's stored definition, locked so that concurrent edits bump the version in turn."""
        stmt = self.get_base_statement().where(WorkflowDefinition.item_code == item_code).with_for_update()
        return await self.get_one_or_none(stmt)

    async def get_effective(self, item_code: str) -> WorkflowDefinition | None:
        """Return the item's own definition, else the stored default, in one query."""
        stmt = self.get_base_statement().where(WorkflowDefinition.item_code.in_((item_code, DEFAULT_ITEM)))
        rows = {d.item_code: d for d in await self.get_all(stmt)}
        return rows.get(item_code) or rows.get(DEFAULT_ITEM)

    async def list(self, *, offset: int, limit: int) -> tuple[Sequence[WorkflowDefinition], int]:
        """Return one page of stored definitions by item code, and how many there are."""
        total = (await self.execute(select(func.count()).select_from(WorkflowDefinition))).scalar_one()
        stmt = self.get_base_statement().order_by(WorkflowDefinition.item_code).offset(offset).limit(limit)
        return await self.get_all(stmt), int(total)

    async def has_default(self) -> bool:
        """Tell whether a default (``*``) definition is stored."""
        return await self.get(DEFAULT_ITEM) is not None
