"""Demonstration data of the management platform: the 元江县 item catalogue (idempotent)."""

from __future__ import annotations

import logging

from yiwang_common.db import create_engine, create_sessionmaker, session_scope
from yiwang_management.catalogue.demo import demo_catalogue, load_item
from yiwang_management.config import Settings
from yiwang_management.models import load_all_models
from yiwang_management.shared import event_source

log = logging.getLogger(__name__)


async def load_demo(settings: Settings) -> None:
    """Publish the demo catalogue through the catalogue workflow; content already in force is skipped."""
    load_all_models()
    engine = create_engine(settings.database)
    try:
        sessionmaker = create_sessionmaker(engine)
        source = event_source(settings.platform.region_code)
        async with session_scope(sessionmaker) as session:
            items = demo_catalogue(settings.demo_catalogue)
            published = [await load_item(session, item, source=source) for item in items]
            log.info("demo catalogue", extra={"items": len(items), "published": sum(published)})
    finally:
        await engine.dispose()
