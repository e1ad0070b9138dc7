"""The hand-written migration matches the models, on PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

import yiwang_business
from yiwang_business.db import Base
from yiwang_business.models import load_all_models
from yiwang_common.config import DatabaseSettings
from yiwang_common.db import create_engine
from yiwang_common.migrations import alembic_config, upgrade_database
from yiwang_common.testing import migration_drift

MIGRATIONS = Path(yiwang_business.__file__).parent / "migrations"
TABLES = {
    "workflow_definition",
    "business_case",
    "task",
    "decision",
    "e_licence",
    "counter",
    "outbox",
    "inbox",
    "dead_letter",
}


def _drift(conn: Connection) -> Sequence[Any]:
    return migration_drift(conn, Base.metadata)


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


def _downgrade(conn: Connection, settings: DatabaseSettings) -> None:
    cfg = alembic_config(MIGRATIONS, settings)
    cfg.attributes["connection"] = conn
    command.downgrade(cfg, "base")


@pytest.fixture
def fresh_postgres(fresh_database_url: str) -> DatabaseSettings:
    return DatabaseSettings(url=fresh_database_url, schema_name="business")


class TestMigrations:
    async def test_postgres_schema_has_no_drift_from_models(self, fresh_postgres: DatabaseSettings) -> None:
        load_all_models()
        await upgrade_database(fresh_postgres, MIGRATIONS)
        engine = create_engine(fresh_postgres)
        try:
            async with engine.connect() as conn:
                assert await conn.run_sync(_drift) == []
                schema = (await conn.execute(text("SELECT current_schema()"))).scalar_one()
                assert schema == "business"
                assert TABLES <= await conn.run_sync(_tables)
        finally:
            await engine.dispose()

    async def test_downgrade_removes_every_table(self, fresh_postgres: DatabaseSettings) -> None:
        await upgrade_database(fresh_postgres, MIGRATIONS)
        engine = create_engine(fresh_postgres)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(_downgrade, fresh_postgres)
            async with engine.connect() as conn:
                assert await conn.run_sync(_tables) & TABLES == set()
        finally:
            await engine.dispose()

    async def test_migrations_apply_on_sqlite(self, tmp_path: Path) -> None:
        settings = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/x.db", schema_name="business")
        await upgrade_database(settings, MIGRATIONS)
        engine = create_engine(settings)
        try:
            async with engine.connect() as conn:
                assert TABLES <= await conn.run_sync(_tables)
                assert await conn.run_sync(_drift) == []
        finally:
            await engine.dispose()
