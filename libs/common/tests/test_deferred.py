"""Rows sent at commit: batched per statement, per transaction, savepoint-safe, gone with a rollback."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from common_samples import licence_event
from sqlalchemy import Table, event, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from yiwang_common.db import WriteAtCommit, session_scope
from yiwang_common.db._deferred import pending_count
from yiwang_common.events import EventEnvelope, MessagingTables, enqueue
from yiwang_common.events.outbox import OUTBOX_NOTIFY_KEY


@pytest.fixture
def things(schema: tuple[Table, MessagingTables]) -> Table:
    return schema[0]


@pytest.fixture
def outbox(schema: tuple[Table, MessagingTables]) -> Table:
    return schema[1].outbox


async def _names(sessionmaker: async_sessionmaker[AsyncSession], things: Table) -> list[str]:
    async with sessionmaker() as session:
        return list((await session.execute(select(things.c.name).order_by(things.c.id))).scalars())


def _event(case_no: str) -> EventEnvelope:
    return licence_event(case_no, source="urn:yiwang:test:common")


class TestWriteAtCommit:
    async def test_rows_are_written_at_commit_in_order(
        self, sessionmaker: async_sessionmaker[AsyncSession], things: Table
    ) -> None:
        write = WriteAtCommit(things.insert())
        async with session_scope(sessionmaker) as session:
            for i, name in enumerate(["甲", "乙", "丙"], start=1):
                write.add(session, {"id": i, "name": name})
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
            write = WriteAtCommit(things.insert())
            async with session_scope(sessionmaker) as session:
                for i in range(1, 3):
                    write.add(session, {"id": i, "name": f"n{i}"})
                # A released savepoint's rows join the same batch.
                async with session.begin_nested():
                    for i in range(3, 6):
                        write.add(session, {"id": i, "name": f"n{i}"})
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", record)
        assert len(calls) == 1
        assert calls[0][1] is True
        assert len(await _names(sessionmaker, things)) == 5

    async def test_driver_sql_rows_are_written_too(
        self, sessionmaker: async_sessionmaker[AsyncSession], things: Table
    ) -> None:
        write = WriteAtCommit("INSERT INTO thing (id, name) VALUES ($1, $2)")
        async with session_scope(sessionmaker) as session:
            write.add(session, (1, "一"))
        async with session_scope(sessionmaker) as session:
            write.add(session, (2, "二"))
            write.add(session, (3, "三"))
        assert await _names(sessionmaker, things) == ["一", "二", "三"]

    async def test_rollback_forgets_the_rows(
        self, sessionmaker: async_sessionmaker[AsyncSession], things: Table
    ) -> None:
        write = WriteAtCommit(things.insert())

        async def failing_unit_of_work() -> None:
            async with session_scope(sessionmaker) as session:
                write.add(session, {"id": 1, "name": "x"})
                raise RuntimeError("the unit of work fails")

        with pytest.raises(RuntimeError):
            await failing_unit_of_work()
        assert await _names(sessionmaker, things) == []

    async def test_rows_belong_to_one_transaction_of_a_reused_session(
        self, sessionmaker: async_sessionmaker[AsyncSession], things: Table
    ) -> None:
        write = WriteAtCommit(things.insert())
        async with sessionmaker() as session:
            async with session.begin():
                await session.execute(select(1))
                write.add(session, {"id": 1, "name": "rolled back"})
                await session.rollback()
            async with session.begin():
                write.add(session, {"id": 2, "name": "committed"})
        assert await _names(sessionmaker, things) == ["committed"]

    async def test_failing_write_fails_the_commit_and_keeps_nothing(
        self, sessionmaker: async_sessionmaker[AsyncSession], things: Table
    ) -> None:
        write = WriteAtCommit(things.insert())
        async with session_scope(sessionmaker) as session:
            write.add(session, {"id": 1, "name": "first"})

        async def clashing_unit_of_work() -> None:
            async with session_scope(sessionmaker) as session:
                await session.execute(things.insert().values(id=2, name="with the state change"))
                write.add(session, {"id": 1, "name": "clashes"})

        with pytest.raises(Exception, match="duplicate key"):
            await clashing_unit_of_work()
        # The state change of the failed unit of work is gone with it.
        assert await _names(sessionmaker, things) == ["first"]


class StepFailed(Exception):
    pass


async def _in_failing_savepoint(session: AsyncSession, step: Callable[[], Awaitable[None]]) -> None:
    async with session.begin_nested():
        await step()
        raise StepFailed


class TestSavepoints:
    async def test_savepoint_rollback_drops_only_its_own_rows(
        self, sessionmaker: async_sessionmaker[AsyncSession], things: Table
    ) -> None:
        write = WriteAtCommit(things.insert())
        async with session_scope(sessionmaker) as session:
            write.add(session, {"id": 1, "name": "before"})

            async def step() -> None:
                write.add(session, {"id": 2, "name": "inside"})

            with pytest.raises(StepFailed):
                await _in_failing_savepoint(session, step)
            write.add(session, {"id": 3, "name": "after"})
        assert await _names(sessionmaker, things) == ["before", "after"]

    async def test_released_savepoint_rows_survive_and_die_with_an_outer_rollback(
        self, sessionmaker: async_sessionmaker[AsyncSession], things: Table
    ) -> None:
        write = WriteAtCommit(things.insert())
        async with session_scope(sessionmaker) as session:
            async with session.begin_nested():
                write.add(session, {"id": 1, "name": "released"})

            async def step() -> None:
                write.add(session, {"id": 2, "name": "outer savepoint"})
                async with session.begin_nested():
                    write.add(session, {"id": 3, "name": "released inside a failing one"})

            with pytest.raises(StepFailed):
                await _in_failing_savepoint(session, step)
            assert pending_count(session) == 1
        assert await _names(sessionmaker, things) == ["released"]

    async def test_savepoint_rollback_keeps_the_outbox_row_of_the_state_change(
        self, sessionmaker: async_sessionmaker[AsyncSession], things: Table, outbox: Table
    ) -> None:
        kept, dropped = _event("530428202611230000017"), _event("530428202611230000025")
        async with session_scope(sessionmaker) as session:
            await session.execute(things.insert().values(id=1, name="state change"))
            await enqueue(session, outbox, kept)

            async def step() -> None:
                await session.execute(things.insert().values(id=2, name="failed step"))
                await enqueue(session, outbox, dropped)

            with pytest.raises(StepFailed):
                await _in_failing_savepoint(session, step)
        async with sessionmaker() as session:
            ids = list((await session.execute(select(outbox.c.event_id))).scalars())
        assert await _names(sessionmaker, things) == ["state change"]
        assert ids == [kept.id]

    async def test_the_relay_is_woken_by_the_outer_commit_not_by_a_released_savepoint(
        self, sessionmaker: async_sessionmaker[AsyncSession], outbox: Table
    ) -> None:
        wakes: list[int] = []
        async with session_scope(sessionmaker) as session:
            session.info[OUTBOX_NOTIFY_KEY] = lambda: wakes.append(pending_count(session))
            async with session.begin_nested():
                await enqueue(session, outbox, _event("530428202611230000017"))
            assert wakes == []
        assert wakes == [0]  # once, after the rows were written
