"""Fixtures: a fresh PostgreSQL database and the real NATS server for the backbone tests.

``database_url`` and ``nc`` come from the shared plugin (``yiwang_common.testing.plugin``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client as NatsClient
from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from yiwang_common.config import DatabaseSettings, NatsSettings
from yiwang_common.db import NAMING_CONVENTION, create_engine
from yiwang_common.events import MessagingTables, ensure_stream, messaging_tables, stream_name

metadata = MetaData(naming_convention=NAMING_CONVENTION)
things = Table("thing", metadata, Column("id", Integer, primary_key=True), Column("name", String(50)))
tables: MessagingTables = messaging_tables(metadata)


@pytest.fixture
def schema() -> tuple[Table, MessagingTables]:
    return things, tables


@pytest.fixture(scope="session")
def database_prefix() -> str:
    return "yiwang_test_common"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(DatabaseSettings(url=database_url, schema_name="public"))
    async with eng.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
    yield eng
    await eng.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@pytest.fixture
async def clean_stream(nc: NatsClient) -> str:
    """An empty ``YIWANG_DATASHARING`` stream: the producer the backbone tests publish as."""
    js = nc.jetstream()
    name = stream_name("datasharing")
    with contextlib.suppress(Exception):
        await js.delete_stream(name)
    await ensure_stream(js, "datasharing", NatsSettings())
    return name
