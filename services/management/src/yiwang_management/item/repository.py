"""Queries of the item catalogue."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_management.item.models import ITEM_IN_FORCE, Item


class ItemRepository:
    """Reads and writes ``item`` rows inside the caller's unit of work."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, item_code: str, *, for_update: bool = False) -> Item | None:
        """Return the item with that 实施编码, optionally locked for a new version."""
        statement = select(Item).where(Item.item_code == item_code)
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    def _in_force(self, q: str | None) -> Select[Item]:
        statement = select(Item).where(Item.status == ITEM_IN_FORCE)
        if q:
            # The catalogue is small (hundreds of items per county); a substring scan is fine.
            escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            statement = statement.where(Item.name.like(f"%{escaped}%", escape="\\"))
        return statement

    async def list_in_force(self, *, q: str | None, offset: int, limit: int) -> tuple[Sequence[Item], int]:
        """Return one page of items in force whose name contains ``q``, and the total count."""
        base = self._in_force(q)
        total = (await self.session.execute(select(func.count()).select_from(base.subquery()))).scalar_one()
        page = await self.session.execute(base.order_by(Item.item_code).offset(offset).limit(limit))
        return page.scalars().all(), total

    async def in_force_of_org(self, org_code: str) -> Sequence[Item]:
        """Every item in force of one implementing unit, by 实施编码 (a window's own items)."""
        statement = self._in_force(None).where(Item.org_code == org_code).order_by(Item.item_code)
        return (await self.session.execute(statement)).scalars().all()

    def add(self, item: Item) -> None:
        """Stage a new item."""
        self.session.add(item)
