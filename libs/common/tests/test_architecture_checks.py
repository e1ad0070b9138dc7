"""The query-placement check finds SQL outside repositories and nothing else; the statement counter
counts its own block only."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.db import session_scope
from yiwang_common.testing.architecture import StatementCounter, find_queries_outside_repositories


def test_flags_sql_outside_repositories_only(tmp_path: Path) -> None:
    pkg = tmp_path / "yiwang_demo"
    (pkg / "case").mkdir(parents=True)
    (pkg / "migrations" / "versions").mkdir(parents=True)
    (pkg / "case" / "repository.py").write_text(
        "from sqlalchemy import select\nasync def q(session):\n    return await session.execute(select(1))\n"
    )
    (pkg / "case" / "service.py").write_text(
        "from sqlalchemy import select as sel\n"
        "def update(x):\n    return x\n"
        "async def bad(self):\n    update(1)\n    await self.session.get(object, 1)\n    return sel(1)\n"
    )
    (pkg / "migrations" / "versions" / "m.py").write_text("from sqlalchemy import text\ntext('select 1')\n")
    found = find_queries_outside_repositories(pkg)
    assert found == ["case/service.py:6: session.get()", "case/service.py:7: sel()"]


def test_a_clean_package_passes(tmp_path: Path) -> None:
    pkg = tmp_path / "yiwang_clean"
    pkg.mkdir()
    (pkg / "service.py").write_text("async def ok(repo):\n    return await repo.get_by_id(1)\n")
    assert find_queries_outside_repositories(pkg) == []


async def _select(sessionmaker: async_sessionmaker[AsyncSession], value: int) -> None:
    async with session_scope(sessionmaker) as session:
        await session.execute(text(f"SELECT {value}"))


async def test_the_statement_counter_counts_its_block_and_the_tasks_it_starts_only(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    # An app's background task on the same engine (the calendar refresh, the import worker's
    # poll) runs while the block is open; its statements are not the hot path's.
    started = asyncio.Event()
    go_on = asyncio.Event()

    async def background() -> None:
        started.set()
        await go_on.wait()
        await _select(sessionmaker, 1)

    task = asyncio.create_task(background())
    await started.wait()
    with StatementCounter(sessionmaker) as counter:
        go_on.set()
        await task
        await _select(sessionmaker, 2)
        # A task the block starts is part of its work.
        await asyncio.create_task(_select(sessionmaker, 3))
    assert counter.sent == ["SELECT 2", "SELECT 3"]
