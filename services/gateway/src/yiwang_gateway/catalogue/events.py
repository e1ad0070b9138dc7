"""Event handlers of the catalogue: ``management.ItemPublished`` and ``management.ItemWithdrawn``."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.contracts.management import ItemPublished, ItemWithdrawn
from yiwang_common.events import EventEnvelope
from yiwang_gateway.catalogue.service import catalogue_service
from yiwang_gateway.search.service import search_service


async def on_item_published(session: AsyncSession, envelope: EventEnvelope, data: ItemPublished) -> None:
    """事项已发布: keep the newest version of the item."""
    await catalogue_service.apply_published(session, data=data)
    # The index follows the row as committed (an older version than the one held changes nothing).
    await search_service.on_item_changed(session, data.item_code)


async def on_item_withdrawn(session: AsyncSession, envelope: EventEnvelope, data: ItemWithdrawn) -> None:
    """事项已撤销: the item takes no new applications, so the portal stops offering it."""
    if await catalogue_service.apply_withdrawn(session, data=data):
        search_service.on_item_withdrawn(session, data.item_code)
