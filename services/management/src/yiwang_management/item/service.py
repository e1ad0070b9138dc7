"""Publishing item versions (事项发布): the item and its ``ItemPublished`` event in one unit of work."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.db import utcnow
from yiwang_common.events import enqueue
from yiwang_management.db import messaging
from yiwang_management.item import cache as item_cache
from yiwang_management.item.errors import ItemNotFound, ItemVersionConflict
from yiwang_management.item.events import item_published_event, item_withdrawn_event
from yiwang_management.item.models import ITEM_CANCELLED, Item
from yiwang_management.item.repository import ItemRepository
from yiwang_management.item.schemas import ItemCreate

log = logging.getLogger(__name__)


async def publish_item(
    session: AsyncSession, item_create: ItemCreate, *, source: str, extras: dict[str, Any] | None = None
) -> tuple[Item, bool]:
    """Put an item version in force and enqueue ``ItemPublished``.

    Publishing the version already in force again changes nothing (idempotent demo loads and
    retried admin calls); an older version is refused. The catalogue publishes through here
    too, so the ``item`` row stays the one copy of what is in force that registration reads.

    Returns:
        The item and whether this call published it.
    """
    repository = ItemRepository(session)
    item = await repository.get(item_create.item_code, for_update=True)
    if item is not None and item.version >= item_create.version:
        if item.version == item_create.version:
            return item, False
        raise ItemVersionConflict(
            f"事项 {item.item_code} 已有版本 {item.version}，不能发布较低的版本 {item_create.version}",
            current_version=item.version,
        )
    if item is None:
        item = Item(item_code=item_create.item_code)
        repository.add(item)
    _apply(item, item_create)
    item_cache.forget(item.item_code)
    await session.flush()
    await enqueue(session, messaging.outbox, item_published_event(item, source=source, extras=extras))
    log.info("item published", extra={"item_code": item.item_code, "version": item.version})
    return item, True


def _apply(item: Item, item_create: ItemCreate) -> None:
    item.basic_code = item_create.basic_code
    item.name = item_create.name
    item.item_type = item_create.item_type
    item.version = item_create.version
    item.status = item_create.status
    item.org_name = item_create.implementing_org.name
    item.org_code = item_create.implementing_org.code
    item.region_code = item_create.region_code
    item.service_object = list(item_create.service_object)
    item.scope = item_create.scope
    item.legal_basis = list(item_create.legal_basis)
    item.conditions = list(item_create.conditions)
    item.materials = [m.model_dump(mode="json") for m in item_create.materials]
    item.statutory_limit_days = item_create.statutory_limit_days
    item.promised_limit_days = item_create.promised_limit_days
    item.case_type = item_create.case_type
    item.fee = item_create.fee
    item.form_schema = dict(item_create.form_schema)
    item.guide = dict(item_create.guide)
    item.published_at = utcnow()


async def withdraw_item(
    session: AsyncSession, item_code: str, *, version: int, reason: str, at: datetime, source: str
) -> Item | None:
    """Take the version in force out of force (事项撤销) and enqueue ``ItemWithdrawn``.

    Returns:
        The item, or None when that version is not the one in force (nothing changes).
    """
    item = await ItemRepository(session).get(item_code, for_update=True)
    if item is None or item.version != version or item.status == ITEM_CANCELLED:
        return None
    item.status = ITEM_CANCELLED
    item_cache.forget(item_code)
    await session.flush()
    await enqueue(
        session, messaging.outbox, item_withdrawn_event(item, reason=reason, withdrawn_at=at, source=source)
    )
    log.info("item withdrawn", extra={"item_code": item_code, "version": version})
    return item


async def get_item(session: AsyncSession, item_code: str) -> Item:
    """Return an item or raise ``ItemNotFound``."""
    item = await ItemRepository(session).get(item_code)
    if item is None:
        raise ItemNotFound(f"事项 {item_code} 不存在")
    return item


async def list_items(
    session: AsyncSession, *, q: str | None, offset: int, limit: int
) -> tuple[Sequence[Item], int]:
    """Return one page of the items in force (optionally by name) and the total."""
    return await ItemRepository(session).list_in_force(q=q, offset=offset, limit=limit)
