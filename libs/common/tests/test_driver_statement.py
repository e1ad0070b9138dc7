"""DriverStatement: the same rows, transaction, errors and statement events as ``session.execute``."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import (
    Column,
    Date,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Uuid,
    bindparam,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from yiwang_common.db import JSONType, TZDateTime, session_scope
from yiwang_common.db.driver import DriverStatement
from yiwang_common.testing.architecture import StatementCounter

metadata = MetaData()
rows = Table(
    "driver_row",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("name", String(50), nullable=False),
    Column("at", TZDateTime(), nullable=False),
    Column("day", Date(), nullable=True),
    Column("doc", JSONType, nullable=False),
    Column("blob", LargeBinary(), nullable=True),
    Column("n", Integer(), nullable=False),
)
_INSERT = DriverStatement(
    insert(rows)
    .values({c.key: bindparam(f"p_{c.key}", type_=c.type) for c in rows.c})
    .returning(*rows.c, literal("fixed", String()).label("fixed"), func.length(rows.c.name).label("len"))
)


@pytest.fixture
async def table(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)


def _values(name: str) -> dict[str, object]:
    return {
        "p_id": uuid.uuid4(),
        "p_name": name,
        # Not UTC: the TZDateTime bind processor stores it as UTC, the result processor returns UTC.
        "p_at": datetime(2026, 12, 3, 9, 30, tzinfo=timezone(timedelta(hours=8))),
        "p_day": date(2026, 12, 3),
        "p_doc": {"步骤": ["审查", 2], "ok": True, "none": None},
        "p_blob": b"\x00\x01",
        "p_n": 7,
    }


class TestDriverStatement:
    async def test_rows_are_those_session_execute_returns(
        self, table: None, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        values = _values("甲")
        async with session_scope(sessionmaker) as session:
            (driven,) = await _INSERT.fetch(session, values)
        async with session_scope(sessionmaker) as session:
            again = _values("乙")
            (through_sa,) = (await session.execute(_INSERT.statement, again)).all()
        assert [type(v) for v in driven] == [type(v) for v in through_sa]
        assert driven[0] == values["p_id"] and driven[1] == "甲"
        assert driven[2] == datetime(2026, 12, 3, 1, 30, tzinfo=UTC) and driven[2].tzinfo == UTC
        assert driven[2:] == tuple(through_sa)[2:] and driven[-2:] == ("fixed", 1)
        assert driven[4] == {"步骤": ["审查", 2], "ok": True, "none": None}

    async def test_it_runs_in_the_unit_of_work_and_rolls_back_with_it(
        self, table: None, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        # The unit's first statement: the driver statement starts the transaction itself.
        async def insert_then_fail() -> None:
            async with session_scope(sessionmaker) as session:
                await _INSERT.execute(session, _values("丙"))
                raise RuntimeError("abort")

        with pytest.raises(RuntimeError):
            await insert_then_fail()
        async with session_scope(sessionmaker) as session:
            assert (await session.execute(select(func.count()).select_from(rows))).scalar_one() == 0
            await _INSERT.execute(session, _values("丁"))
        async with session_scope(sessionmaker) as session:
            assert (await session.execute(select(rows.c.name))).scalars().all() == ["丁"]

    async def test_errors_are_sqlalchemys_and_the_session_recovers(
        self, table: None, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        values = _values("戊")
        async with session_scope(sessionmaker) as session:
            await _INSERT.execute(session, values)
        with pytest.raises(IntegrityError):
            async with session_scope(sessionmaker) as session:
                await _INSERT.execute(session, values)
        async with session_scope(sessionmaker) as session:
            assert (await session.execute(select(func.count()).select_from(rows))).scalar_one() == 1

    async def test_statement_listeners_see_it(
        self, table: None, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        with StatementCounter(engine) as counter:
            async with session_scope(sessionmaker) as session:
                await _INSERT.execute(session, _values("己"))
        assert len(counter.sent) == 1 and counter.sent[0].startswith("INSERT INTO driver_row")

    async def test_alone_it_is_its_own_transaction_and_in_a_begun_one_a_part_of_it(
        self, table: None, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        async def count() -> int:
            async with engine.connect() as other:
                return int((await other.execute(select(func.count()).select_from(rows))).scalar_one())

        seen: list[int] = []

        async def unit(*names: str) -> None:
            # The last statement alone; the unit then fails.
            async with session_scope(sessionmaker) as session:
                for k, name in enumerate(names):
                    await _INSERT.execute(session, _values(name), alone=k == len(names) - 1)
                seen.append(await count())
                raise RuntimeError("abort")

        # First in its unit of work: committed by the statement itself, before the unit ends, and
        # kept when the unit then fails.
        with pytest.raises(RuntimeError):
            await unit("辛")
        assert seen == [1] and await count() == 1
        # After another statement: part of the unit's transaction, rolled back with it.
        with pytest.raises(RuntimeError):
            await unit("壬", "癸")
        assert seen == [1, 1] and await count() == 1

    async def test_a_missing_parameter_is_refused(
        self, table: None, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        values = _values("庚")
        del values["p_n"]
        with pytest.raises(KeyError, match="p_n"):
            async with session_scope(sessionmaker) as session:
                await _INSERT.execute(session, values)

    def test_python_side_defaults_are_refused(self) -> None:
        from sqlalchemy.dialects import postgresql

        table = Table(
            "defaulted", MetaData(), Column("id", Integer, primary_key=True), Column("n", Integer, default=1)
        )
        statement = DriverStatement(insert(table).values(id=bindparam("id")))
        with pytest.raises(ValueError, match="Python defaults"):
            statement._compile(postgresql.asyncpg.dialect())  # type: ignore[attr-defined]
