"""Fixtures: a fresh PostgreSQL database and the real NATS server for the backbone tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import nats
import pytest
from nats.aio.client import Client as NatsClient
from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from yiwang_common.config import DatabaseSettings
from yiwang_common.db import NAMING_CONVENTION, create_engine
from yiwang_common.events import MessagingTables, messaging_tables
from yiwang_common.testing import create_database, drop_database, nats_url

metadata = MetaData(naming_convention=NAMING_CONVENTION)
things = Table("thing", metadata, Column("id", Integer, primary_key=True), Column("name", String(50)))
tables: MessagingTables = messaging_tables(metadata)


@pytest.fixture
def schema() -> tuple[Table, MessagingTables]:
    return things, tables


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    url = await create_database("yiwang_test_common")
    yield url
    await drop_database(url)


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
async def nc() -> AsyncIterator[NatsClient]:
    client = await nats.connect(nats_url())
    yield client
    await client.close()
