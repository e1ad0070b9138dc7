"""Reads of the catalogue copy the index is built from."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from sqlalchemy import select

from yiwang_common.db.repository import RepositoryBase
from yiwang_gateway.catalogue.models import CatalogueItem


class SearchRepository(RepositoryBase[CatalogueItem]):
    """检索 reads of ``catalogue_item``."""

    model = CatalogueItem

    async def batches(self, size: int = 2000) -> AsyncIterator[Sequence[CatalogueItem]]:
        """Every catalogue row, keyset-paged so start-up never holds the whole table twice."""
        last = ""
        while True:
            stmt = (
                select(CatalogueItem)
                .where(CatalogueItem.item_code > last)
                .order_by(CatalogueItem.item_code)
                .limit(size)
            )
            rows = await self.get_all(stmt)
            if not rows:
                return
            yield rows
            last = rows[-1].item_code
            self.session.expunge_all()

    async def get(self, item_code: str) -> CatalogueItem | None:
        stmt = (
            select(CatalogueItem)
            .where(CatalogueItem.item_code == item_code)
            .execution_options(populate_existing=True)
        )
        return await self.get_one_or_none(stmt)
