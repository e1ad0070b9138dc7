"""The repository base: one unit of work per repository, objects tracked, pages counted once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import String, event, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, object_session

from yiwang_common.db import session_scope
from yiwang_common.db.repository import RepositoryBase


class _Base(DeclarativeBase):
    pass


class Licence(_Base):
    __tablename__ = "repo_licence"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    holder: Mapped[str] = mapped_column(String(50))


class LicenceRepository(RepositoryBase[Licence]):
    model = Licence

    async def get_by_code(self, code: str) -> Licence | None:
        return await self.get_one_or_none(self.get_base_statement().where(Licence.code == code))


@pytest.fixture
async def repo_sessionmaker(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with engine.begin() as conn:
        await conn.run_sync(_Base.metadata.drop_all)
        await conn.run_sync(_Base.metadata.create_all)
    yield async_sessionmaker(engine, expire_on_commit=False)
    async with engine.begin() as conn:
        await conn.run_sync(_Base.metadata.drop_all)


async def _seed(sm: async_sessionmaker[AsyncSession], n: int) -> None:
    async with session_scope(sm) as session:
        repo = LicenceRepository.from_session(session)
        for i in range(1, n + 1):
            await repo.create(Licence(id=i, code=f"L{i:03d}", holder=f"持证人{i}"))


class TestRepositoryBase:
    async def test_create_then_read_in_a_later_unit_of_work(
        self, repo_sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        await _seed(repo_sessionmaker, 2)
        async with session_scope(repo_sessionmaker) as session:
            repo = LicenceRepository.from_session(session)
            found = await repo.get_by_code("L002")
            assert found is not None and found.holder == "持证人2"
            assert await repo.get_by_code("L999") is None
            assert [
                lic.code for lic in await repo.get_all(repo.get_base_statement().order_by(Licence.id))
            ] == [
                "L001",
                "L002",
            ]

    async def test_update_goes_through_the_tracked_object(
        self, repo_sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        await _seed(repo_sessionmaker, 1)
        async with session_scope(repo_sessionmaker) as session:
            repo = LicenceRepository.from_session(session)
            lic = await repo.get_by_id(1)
            assert lic is not None
            await repo.update(lic, update_dict={"holder": "新持证人"})
        async with session_scope(repo_sessionmaker) as session:
            again = await LicenceRepository.from_session(session).get_by_id(1)
            assert again is not None and again.holder == "新持证人"

    async def test_a_failed_unit_of_work_writes_nothing(
        self, repo_sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        async def fail() -> None:
            async with session_scope(repo_sessionmaker) as session:
                await LicenceRepository.from_session(session).create(
                    Licence(id=7, code="L007", holder="x"), flush=True
                )
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            await fail()
        async with session_scope(repo_sessionmaker) as session:
            assert await LicenceRepository.from_session(session).get_by_id(7) is None

    async def test_a_unit_of_work_hands_back_its_connection_and_detaches_what_it_read(
        self, engine: AsyncEngine, repo_sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        await _seed(repo_sessionmaker, 1)
        pool = engine.sync_engine.pool
        async with session_scope(repo_sessionmaker) as session:
            lic = await LicenceRepository.from_session(session).get_by_id(1)
        assert lic is not None and object_session(lic) is None and lic.holder == "持证人1"
        # A unit of work of Core statements only, committed or rolled back: nothing is left checked out.
        async with session_scope(repo_sessionmaker) as session:
            await session.execute(select(Licence.code))

        async def fail() -> None:
            async with session_scope(repo_sessionmaker) as session:
                await session.execute(select(Licence.code))
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            await fail()
        assert pool.checkedout() == 0  # type: ignore[attr-defined]

    async def test_insert_unless_exists_is_idempotent(
        self, repo_sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        async with session_scope(repo_sessionmaker) as session:
            repo = LicenceRepository.from_session(session)
            assert await repo.insert_unless_exists(
                {"id": 1, "code": "L001", "holder": "a"}, conflict=["code"]
            )
            assert not await repo.insert_unless_exists(
                {"id": 2, "code": "L001", "holder": "b"}, conflict=["code"]
            )
        async with session_scope(repo_sessionmaker) as session:
            rows = await LicenceRepository.from_session(session).rows(select(Licence.id, Licence.holder))
            assert [(r.id, r.holder) for r in rows] == [(1, "a")]

    async def test_paginate_counts_with_the_page_and_past_the_end(
        self, engine: AsyncEngine, repo_sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        await _seed(repo_sessionmaker, 5)
        statements: list[str] = []

        def record(conn: Connection, cursor: object, statement: str, *args: object) -> None:
            if "repo_licence" in statement:
                statements.append(statement)

        event.listen(engine.sync_engine, "before_cursor_execute", record)
        try:
            async with session_scope(repo_sessionmaker) as session:
                repo = LicenceRepository.from_session(session)
                query = select(Licence.code).order_by(Licence.id)
                rows, total = await repo.paginate(query, page=2, limit=2)
                assert [r.code for r in rows] == ["L003", "L004"] and total == 5
                assert len(statements) == 1
                rows, total = await repo.paginate(query, page=9, limit=2)
                assert list(rows) == [] and total == 5
                rows, total = await repo.paginate(query.where(Licence.id > 99), page=1, limit=2)
                assert list(rows) == [] and total == 0
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", record)
