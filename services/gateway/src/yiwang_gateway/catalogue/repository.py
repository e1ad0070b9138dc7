"""Queries on the catalogue copy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Row, Table, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_gateway.catalogue.models import CatalogueItem


class CatalogueRepository:
    """事项 queries."""

    async def get(self, session: AsyncSession, item_code: str) -> CatalogueItem | None:
        return await session.get(CatalogueItem, item_code)

    async def for_application(self, session: AsyncSession, item_code: str) -> Row[Any] | None:
        """What checking an application needs of the item, without the guide and the rest."""
        stmt = select(
            CatalogueItem.item_code, CatalogueItem.name, CatalogueItem.form_schema, CatalogueItem.materials
        ).where(CatalogueItem.item_code == item_code)
        return (await session.execute(stmt)).first()

    async def search(
        self, session: AsyncSession, *, q: str | None, page: int, limit: int
    ) -> tuple[Sequence[CatalogueItem], int]:
        where = [CatalogueItem.name.contains(q, autoescape=True)] if q else []
        total = (
            await session.execute(select(func.count()).select_from(CatalogueItem).where(*where))
        ).scalar_one()
        stmt = (
            select(CatalogueItem)
            .where(*where)
            .order_by(CatalogueItem.name, CatalogueItem.item_code)
            .offset((page - 1) * limit)
            .limit(limit)
        )
        return (await session.execute(stmt)).scalars().all(), total

    async def upsert_newer(self, session: AsyncSession, values: dict[str, Any]) -> None:
        """Insert the item, or replace it only when ``values`` carries a newer version."""
        table = cast(Table, CatalogueItem.__table__)
        stmt = insert(table).values(**values)
        update = {k: stmt.excluded[k] for k in values if k != "item_code"}
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.item_code],
            set_=update,
            where=table.c.version < stmt.excluded.version,
        )
        await session.execute(stmt)

    async def delete_up_to(self, session: AsyncSession, item_code: str, version: int) -> None:
        """Remove the item if the copy held is that version or older (a newer one stays)."""
        table = cast(Table, CatalogueItem.__table__)
        await session.execute(delete(table).where(table.c.item_code == item_code, table.c.version <= version))


catalogue_repository = CatalogueRepository()
