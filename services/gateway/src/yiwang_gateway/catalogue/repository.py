"""Queries on the catalogue copy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert

from yiwang_common.db.repository import RepositoryBase
from yiwang_gateway.catalogue.models import CatalogueItem

_ITEM = cast(Table, CatalogueItem.__table__)

#: What checking an application needs of the item, without the guide and the rest; prebuilt, as
#: every submission reads it.
_FOR_APPLICATION = select(
    CatalogueItem.item_code, CatalogueItem.name, CatalogueItem.form_schema, CatalogueItem.materials
).where(CatalogueItem.item_code == bindparam("item_code"))


class CatalogueRepository(RepositoryBase[CatalogueItem]):
    """事项 queries."""

    model = CatalogueItem

    async def get(self, item_code: str) -> CatalogueItem | None:
        return await self.get_by_id(item_code)

    async def for_application(self, item_code: str) -> Row[Any] | None:
        """What checking an application needs of the item (a row)."""
        return await self.first_row(_FOR_APPLICATION, {"item_code": item_code})

    async def search(self, *, q: str | None, page: int, limit: int) -> tuple[Sequence[CatalogueItem], int]:
        """Items whose name contains ``q``, by name: one page and the total, in one round trip."""
        stmt = self.get_base_statement().order_by(CatalogueItem.name, CatalogueItem.item_code)
        if q:
            stmt = stmt.where(CatalogueItem.name.contains(q, autoescape=True))
        rows, total = await self.paginate(stmt, page=page, limit=limit)
        return [row[0] for row in rows], total

    async def upsert_newer(self, values: Mapping[str, Any]) -> None:
        """Insert the item, or replace it only when ``values`` carries a newer version."""
        stmt = insert(_ITEM).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[_ITEM.c.item_code],
            set_={k: stmt.excluded[k] for k in values if k != "item_code"},
            where=_ITEM.c.version < stmt.excluded.version,
        )
        await self.execute(stmt)

    async def delete_up_to(self, item_code: str, version: int) -> bool:
        """Remove the item if the copy held is that version or older (a newer one stays).

        Returns:
            Whether a row was removed.
        """
        stmt = (
            delete(_ITEM)
            .where(_ITEM.c.item_code == item_code, _ITEM.c.version <= version)
            .returning(_ITEM.c.item_code)
        )
        return (await self.execute(stmt)).first() is not None
