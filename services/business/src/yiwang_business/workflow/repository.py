"""Queries of workflow definitions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from yiwang_business.workflow.models import ProcessVersion, WorkflowDefinition, WorkflowMigration
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


class ProcessVersionRepository(RepositoryBase[ProcessVersion]):
    """Reads and writes ``process_version``."""

    model = ProcessVersion

    async def for_item(self, item_code: str) -> Sequence[ProcessVersion]:
        """Every version of an item, newest first."""
        stmt = self.get_base_statement().where(ProcessVersion.item_code == item_code)
        return await self.get_all(stmt.order_by(ProcessVersion.version.desc()))

    async def get_version(self, item_code: str, version: int, *, lock: bool = False) -> ProcessVersion | None:
        """One version of an item; ``lock`` holds it until commit."""
        stmt = self.get_base_statement().where(
            ProcessVersion.item_code == item_code, ProcessVersion.version == version
        )
        return await self.get_one_or_none(stmt.with_for_update() if lock else stmt)

    async def published(self, item_code: str) -> ProcessVersion | None:
        """The item's published version, locked (publishing supersedes it)."""
        stmt = self.get_base_statement().where(
            ProcessVersion.item_code == item_code, ProcessVersion.status == "published"
        )
        return await self.get_one_or_none(stmt.with_for_update())

    async def highest(self, item_code: str) -> int:
        """The highest version number an item has (0 when it has none)."""
        stmt = select(func.coalesce(func.max(ProcessVersion.version), 0)).where(
            ProcessVersion.item_code == item_code
        )
        return int((await self.execute(stmt)).scalar_one())


class MigrationRepository(RepositoryBase[WorkflowMigration]):
    """Writes ``workflow_migration`` (版本迁移记录)."""

    model = WorkflowMigration

    async def add(self, migration: WorkflowMigration) -> None:
        """Record a migration."""
        await self.create(migration)
