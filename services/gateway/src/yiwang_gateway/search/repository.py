"""Reads of the catalogue copy the index is built from."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_gateway.catalogue.models import CatalogueItem


class SearchRepository:
    async def batches(
        self, session: AsyncSession, size: int = 2000
    ) -> AsyncIterator[Sequence[CatalogueItem]]:
        """Every catalogue row, keyset-paged so start-up never holds the whole table twice."""
        last = ""
        while True:
            stmt = (
                select(CatalogueItem)
                .where(CatalogueItem.item_code > last)
                .order_by(CatalogueItem.item_code)
                .limit(size)
            )
            rows = (await session.execute(stmt)).scalars().all()
            if not rows:
                return
            yield rows
            last = rows[-1].item_code
            session.expunge_all()

    async def get(self, session: AsyncSession, item_code: str) -> CatalogueItem | None:
        stmt = (
            select(CatalogueItem)
            .where(CatalogueItem.item_code == item_code)
            .execution_options(populate_existing=True)
        )
        return (await session.execute(stmt)).scalar_one_or_none()


search_repository = SearchRepository()
