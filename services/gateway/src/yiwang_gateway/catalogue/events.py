"""Event handlers of the catalogue: ``management.ItemPublished``."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.contracts.management import ItemPublished
from yiwang_common.events import EventEnvelope
from yiwang_gateway.catalogue.service import catalogue_service
from yiwang_gateway.search.service import search_service


async def on_item_published(session: AsyncSession, envelope: EventEnvelope, data: ItemPublished) -> None:
    """事项已发布: keep the newest version of the item."""
    await catalogue_service.apply_published(session, data=data)
    # The index follows the row as committed (an older version than the one held changes nothing).
    await search_service.on_item_changed(session, data.item_code)
