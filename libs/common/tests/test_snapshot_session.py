"""The request's unit of work: a read in several queries sees one snapshot only when asked for."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from sqlalchemy import Column, Integer, MetaData, String, Table, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.config import DatabaseSettings
from yiwang_common.db import create_engine, get_session, get_snapshot_session, session_scope

# The conftest's ``thing`` table, by name: the test reads and writes its rows only.
things = Table("thing", MetaData(), Column("id", Integer, primary_key=True), Column("name", String(50)))


class _Between:
    """Holds the request between its two reads until the test has committed a change."""

    def __init__(self) -> None:
        self.first_read = asyncio.Event()
        self.committed = asyncio.Event()


async def _read_twice(session: AsyncSession, between: _Between) -> dict[str, Any]:
    before = await session.scalar(select(things.c.name).where(things.c.id == 1))
    between.first_read.set()
    await between.committed.wait()
    after = await session.scalar(select(things.c.name).where(things.c.id == 1))
    level = await session.scalar(text("SHOW transaction_isolation"))
    return {"before": before, "after": after, "isolation": level}


def _app(sessionmaker: async_sessionmaker[AsyncSession], between: _Between) -> FastAPI:
    app = FastAPI()
    app.state.sessionmaker = sessionmaker

    @app.get("/plain")
    async def plain(
        session: Annotated[AsyncSession, Depends(get_session, scope="function")],
    ) -> dict[str, Any]:
        return await _read_twice(session, between)

    @app.get("/snapshot")
    async def snapshot(
        session: Annotated[AsyncSession, Depends(get_snapshot_session, scope="function")],
    ) -> dict[str, Any]:
        return await _read_twice(session, between)

    return app


@pytest.fixture
async def seeded(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with session_scope(sessionmaker) as session:
        await session.execute(things.insert().values(id=1, name="受理前"))


@pytest.fixture
async def one_connection(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The requests' pool: one connection, so a later request gets the one an earlier request used."""
    engine = create_engine(DatabaseSettings(url=database_url, schema_name="public", pool_size=1))
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


async def _while_held(
    requests: async_sessionmaker[AsyncSession], others: async_sessionmaker[AsyncSession], path: str
) -> dict[str, Any]:
    between = _Between()
    transport = httpx.ASGITransport(app=_app(requests, between))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        request = asyncio.create_task(client.get(path))
        await between.first_read.wait()
        async with session_scope(others) as other:
            await other.execute(update(things).where(things.c.id == 1).values(name="已受理"))
        between.committed.set()
        response = await request
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.usefixtures("seeded")
async def test_a_snapshot_session_reads_one_snapshot_across_its_queries(
    one_connection: async_sessionmaker[AsyncSession], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    body = await _while_held(one_connection, sessionmaker, "/snapshot")
    assert body == {"before": "受理前", "after": "受理前", "isolation": "repeatable read"}


@pytest.mark.usefixtures("seeded")
async def test_a_plain_session_sees_each_commit_and_the_pool_is_back_to_read_committed(
    one_connection: async_sessionmaker[AsyncSession], sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # A snapshot request first, on the pool's one connection: its level must not stay on it.
    await _while_held(one_connection, sessionmaker, "/snapshot")
    async with session_scope(sessionmaker) as session:
        await session.execute(update(things).where(things.c.id == 1).values(name="受理前"))
    body = await _while_held(one_connection, sessionmaker, "/plain")
    assert body == {"before": "受理前", "after": "已受理", "isolation": "read committed"}
