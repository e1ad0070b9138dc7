"""Demonstration data of the management platform: the 元江县 item catalogue (idempotent)."""

from __future__ import annotations

import logging

from yiwang_common.db import create_engine, create_sessionmaker, session_scope
from yiwang_management.config import Settings
from yiwang_management.demo_items import demo_items
from yiwang_management.item.service import publish_item
from yiwang_management.models import load_all_models
from yiwang_management.shared import event_source

log = logging.getLogger(__name__)


async def load_demo(settings: Settings) -> None:
    """Publish the demo items; versions already in force are skipped, so reruns change nothing."""
    load_all_models()
    engine = create_engine(settings.database)
    try:
        sessionmaker = create_sessionmaker(engine)
        source = event_source(settings.platform.region_code)
        async with session_scope(sessionmaker) as session:
            for item_create in demo_items():
                item, published = await publish_item(session, item_create, source=source)
                log.info("demo item", extra={"item_code": item.item_code, "published": published})
    finally:
        await engine.dispose()
