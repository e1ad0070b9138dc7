"""Fixtures: a migrated PostgreSQL database, the app without workers, and CaseAccepted delivery."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from business_testkit import TABLES, TakeOver, accepted, envelope
from nats.aio.client import Client as NatsClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from workflow_kit import Bus

import yiwang_business
from yiwang_business.config import Settings
from yiwang_business.main import create_app
from yiwang_business.task.handlers import on_case_accepted
from yiwang_common.config import DatabaseSettings
from yiwang_common.contracts.management import CaseAccepted
from yiwang_common.db import create_engine, create_sessionmaker, session_scope
from yiwang_common.testing import ephemeral_auth, fresh_streams
from yiwang_common.testing.plugin import Migrations

MIGRATIONS = Path(yiwang_business.__file__).parent / "migrations"


# database_url (created, migrated, dropped) comes from the shared plugin (yiwang_common.testing.plugin).
@pytest.fixture(scope="session")
def database_prefix() -> str:
    return "yiwang_test_business"


@pytest.fixture(scope="session")
def database_migrations() -> Migrations:
    return Migrations(MIGRATIONS, "business")


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database=DatabaseSettings(url=database_url), run_workers=False, env="test", auth=ephemeral_auth()
    )


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(settings.database)
    async with eng.begin() as conn:
        await conn.execute(text(f"TRUNCATE {TABLES}"))
    yield eng
    await eng.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture
async def client(settings: Settings, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


@pytest.fixture
def take_over(sessionmaker: async_sessionmaker[AsyncSession]) -> TakeOver:
    """Deliver CaseAccepted to the handler in its own unit of work, as the consumer does."""

    async def deliver(data: CaseAccepted | None = None) -> CaseAccepted:
        data = data or accepted()
        async with session_scope(sessionmaker) as session:
            await on_case_accepted(session, envelope(data), data)
        return data

    return deliver


@pytest.fixture
async def bus(nc: NatsClient) -> AsyncIterator[Bus]:
    await fresh_streams(nc.jetstream(), "management", "business")
    collected = Bus()
    sub = await nc.subscribe("yiwang.business.>", cb=collected.on_message)
    yield collected
    await sub.unsubscribe()


@pytest.fixture
async def live(settings: Settings, engine: AsyncEngine, bus: Bus) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its workers: the relay publishes the outbox to the real NATS server."""
    app = create_app(settings.model_copy(update={"run_workers": True}))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            yield http
