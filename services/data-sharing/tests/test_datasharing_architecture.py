"""Where data-sharing's SQL lives, how repositories are made, and what a case event costs."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import yiwang_datasharing
from yiwang_common.db.repository import RepositoryBase
from yiwang_common.testing.architecture import StatementCounter, find_queries_outside_repositories

PACKAGE_DIR = Path(yiwang_datasharing.__file__).parent


def test_queries_live_only_in_repositories() -> None:
    assert find_queries_outside_repositories(PACKAGE_DIR) == []


def _repository_modules() -> list[Any]:
    return [
        importlib.import_module(
            "yiwang_datasharing." + ".".join(path.relative_to(PACKAGE_DIR).with_suffix("").parts)
        )
        for path in sorted(PACKAGE_DIR.rglob("repository.py"))
    ]


def test_repositories_are_bound_to_a_unit_of_work_not_shared() -> None:
    # A module-level repository would outlive the session it queries through.
    modules = _repository_modules()
    assert modules, "no repository modules found"
    classes = [
        value
        for module in modules
        for name, value in vars(module).items()
        if name.endswith("Repository") and isinstance(value, type) and value.__module__ == module.__name__
    ]
    # Every repository module has a repository (a domain with several tables may have one per table).
    # Every repository module has its classes (several tables of one domain may each have one).
    assert {c.__module__ for c in classes} == {m.__name__ for m in modules}, classes
    assert [c for c in classes if not issubclass(c, RepositoryBase)] == []
    shared = [
        f"{module.__name__}.{name}"
        for module in modules
        for name, value in vars(module).items()
        if isinstance(value, RepositoryBase)
    ]
    assert shared == []


async def test_a_case_event_is_one_statement_at_commit(
    deliver: Any, story: Any, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # The exchange log, the steps and the record upsert ride in one prebuilt statement.
    bind = sessionmaker.kw["bind"]
    assert isinstance(bind, AsyncEngine)
    await deliver(story.submitted(), 0)
    with StatementCounter(bind) as accepted:
        await deliver(story.accepted(), 1)
    assert len(accepted.sent) == 1, accepted.sent
    assert accepted.sent[0].startswith("WITH log AS (INSERT INTO exchange_log")
