"""``python -m bench.db_costs``: client CPU per unit of work and per statement, SQLAlchemy vs asyncpg.

The numbers behind ADR 0009: what one transaction, one statement built per call, one prebuilt
statement and one statement sent straight to asyncpg cost in client CPU on this machine. Uses
``TEST_DATABASE_URL`` (else PostgreSQL on 127.0.0.1) and a scratch table it drops afterwards.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Uuid, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from yiwang_common.db.engine import normalise_url
from yiwang_common.testing import admin_url

metadata = MetaData()
scratch = Table(
    "bench_db_costs",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("a", String(50)),
    Column("b", Integer),
    Column("at", DateTime(timezone=True)),
)
PREBUILT_INSERT = insert(scratch)
PREBUILT_SELECT = select(scratch.c.a, scratch.c.b).where(scratch.c.id == bindparam("id"))
RAW_INSERT = "INSERT INTO bench_db_costs (id, a, b, at) VALUES ($1, $2, $3, $4)"


async def main(n: int = 2000) -> dict[str, float]:
    engine = create_async_engine(normalise_url(admin_url()), pool_size=4)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    now = dt.datetime.now(dt.UTC)

    def row() -> dict[str, object]:
        return {"id": uuid.uuid4(), "a": "x", "b": 1, "at": now}

    async def empty(s: AsyncSession) -> None:
        return None

    async def built(s: AsyncSession) -> None:
        await s.execute(insert(scratch).values(**row()))

    async def prebuilt(s: AsyncSession) -> None:
        await s.execute(PREBUILT_INSERT, row())

    async def select_built(s: AsyncSession) -> None:
        (await s.execute(select(scratch.c.a, scratch.c.b).where(scratch.c.id == uuid.uuid4()))).first()

    async def select_prebuilt(s: AsyncSession) -> None:
        (await s.execute(PREBUILT_SELECT, {"id": uuid.uuid4()})).first()

    async def raw(s: AsyncSession) -> None:
        conn = await (await s.connection()).get_raw_connection()
        await conn.driver_connection.execute(RAW_INSERT, uuid.uuid4(), "x", 1, now)  # type: ignore[union-attr]

    async def five_built(s: AsyncSession) -> None:
        for _ in range(5):
            await built(s)

    async def five_prebuilt(s: AsyncSession) -> None:
        for _ in range(5):
            await prebuilt(s)

    async def five_executemany(s: AsyncSession) -> None:
        await s.execute(PREBUILT_INSERT, [row() for _ in range(5)])

    cases: dict[str, Callable[[AsyncSession], Awaitable[None]]] = {
        "unit_of_work_without_statements": empty,
        "insert_built_per_call": built,
        "insert_prebuilt": prebuilt,
        "select_built_per_call": select_built,
        "select_prebuilt": select_prebuilt,
        "insert_straight_to_asyncpg": raw,
        "five_inserts_built_per_call": five_built,
        "five_inserts_prebuilt": five_prebuilt,
        "five_inserts_one_executemany": five_executemany,
    }
    result: dict[str, float] = {}
    for name, work in cases.items():
        for _ in range(50):  # warm the compiled and prepared statement caches
            async with sessionmaker() as s, s.begin():
                await work(s)
        cpu = time.process_time()
        for _ in range(n):
            async with sessionmaker() as s, s.begin():
                await work(s)
        result[f"{name}_cpu_us"] = round(1e6 * (time.process_time() - cpu) / n, 1)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
    await engine.dispose()
    return result


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main()), indent=2))
