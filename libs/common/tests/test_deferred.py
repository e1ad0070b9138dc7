"""Deferred writes: sent at commit, batched per statement, gone with a rollback."""

from __future__ import annotations

import pytest
from sqlalchemy import Table, event, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from yiwang_common.db import defer, session_scope
from yiwang_common.db.deferred import pending_count


@pytest.fixture
def things(schema: tuple[Table, object]) -> Table:
    return schema[0]


async def _names(sessionmaker: async_sessionmaker[AsyncSession], things: Table) -> list[str]:
    async with sessionmaker() as session:
        return list((await session.execute(select(things.c.name).order_by(things.c.id))).scalars())


class TestDeferredWrites:
    async def test_rows_are_written_at_commit_in_order(
        self, sessionmaker: async_sessionmaker[AsyncSession], things: Table
    ) -> None:
        insert = things.insert()
        async with session_scope(sessionmaker) as session:
            for i, name in enumerate(["甲", "乙", "丙"], start=1):
                defer(session, insert, {"id": i, "name": name})
            assert pending_count(session) == 3
            # Not visible inside the unit of work: nothing has been sent yet.
            assert (await session.execute(select(func.count()).select_from(things))).scalar_one() == 0
        assert await _names(sessionmaker, things) == ["甲", "乙", "丙"]

    async def test_rows_of_one_statement_go_out_as_one_executemany(
        self, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession], things: Table
    ) -> None:
        calls: list[tuple[str, bool]] = []

        def record(
            conn: Connection,
            cursor: object,
            statement: str,
            params: object,
            context: object,
            executemany: bool,
        ) -> None:
            if statement.lstrip().upper().startswith("INSERT INTO THING"):
                calls.append((statement, executemany))

        event.listen(engine.sync_engine, "before_cursor_execute", record)
        try:
            insert = things.insert()
            async with session_scope(sessionmaker) as session:
                for i in range(1, 6):
                    defer(session, insert, {"id": i, "name": f"n{i}"})
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", record)
        assert len(calls) == 1
        assert calls[0][1] is True
        assert len(await _names(sessionmaker, things)) == 5

    async def test_driver_sql_rows_are_written_too(
        self, sessionmaker: async_sessionmaker[AsyncSession], things: Table
    ) -> None:
        sql = "INSERT INTO thing (id, name) VALUES ($1, $2)"
        async with session_scope(sessionmaker) as session:
            defer(session, sql, (1, "一"))
        async with session_scope(sessionmaker) as session:
            defer(session, sql, (2, "二"))
            defer(session, sql, (3, "三"))
        assert await _names(sessionmaker, things) == ["一", "二", "三"]

    async def test_rollback_forgets_deferred_rows(
        self, sessionmaker: async_sessionmaker[AsyncSession], things: Table
    ) -> None:
        async def failing_unit_of_work() -> None:
            async with session_scope(sessionmaker) as session:
                defer(session, things.insert(), {"id": 1, "name": "x"})
                raise RuntimeError("the unit of work fails")

        with pytest.raises(RuntimeError):
            await failing_unit_of_work()
        assert await _names(sessionmaker, things) == []

    async def test_failing_deferred_write_fails_the_commit_and_keeps_nothing(
        self, sessionmaker: async_sessionmaker[AsyncSession], things: Table
    ) -> None:
        async with session_scope(sessionmaker) as session:
            defer(session, things.insert(), {"id": 1, "name": "first"})
        insert = things.insert()

        async def clashing_unit_of_work() -> None:
            async with session_scope(sessionmaker) as session:
                await session.execute(things.insert().values(id=2, name="with the state change"))
                defer(session, insert, {"id": 1, "name": "clashes"})

        with pytest.raises(Exception, match="duplicate key|UNIQUE"):
            await clashing_unit_of_work()
        # The state change of the failed unit of work is gone with it.
        assert await _names(sessionmaker, things) == ["first"]
