"""Handlers of management's item events: keep the item scope current."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.contracts.management import ItemPublished
from yiwang_common.events import EventEnvelope
from yiwang_datasharing.item.repository import ItemScopeRepository


async def on_item_published(session: AsyncSession, envelope: EventEnvelope, data: ItemPublished) -> None:
    """事项已发布: remember which unit implements the item, in which region."""
    await ItemScopeRepository.from_session(session).upsert(
        item_code=data.item_code,
        org_code=data.implementing_org.code,
        org_name=data.implementing_org.name,
        region_code=data.region_code,
        version=data.version,
    )
