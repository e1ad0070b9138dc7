"""The hand-checked initial migration: no drift from the models, and it reverts to nothing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import command
from fastapi import FastAPI
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from yiwang_common.config import DatabaseSettings
from yiwang_common.db import create_engine
from yiwang_common.migrations import alembic_config, upgrade_database
from yiwang_common.testing import migration_drift
from yiwang_datasharing.db import Base
from yiwang_datasharing.models import load_all_models

MIGRATIONS = Path(__file__).resolve().parents[1] / "src" / "yiwang_datasharing" / "migrations"
TABLES = {
    "audit_entry",
    "material",
    "material_owner",
    "case_record",
    "process_step",
    "exchange_log",
    "e_licence",
    "outbox",
    "inbox",
    "dead_letter",
}


def _diff(conn: Connection) -> Sequence[Any]:
    return migration_drift(conn, Base.metadata)


class TestPostgresMigration:
    async def test_models_and_migration_do_not_drift(self, app: FastAPI) -> None:
        load_all_models()
        async with app.state.runtime.engine.connect() as conn:
            assert await conn.run_sync(_diff) == []

    async def test_downgrade_removes_every_table(self, fresh_database_url: str) -> None:
        settings = DatabaseSettings(url=fresh_database_url, schema_name="datasharing")
        await upgrade_database(settings, MIGRATIONS)
        engine = create_engine(settings)
        cfg = alembic_config(MIGRATIONS, settings)
        try:
            async with engine.connect() as conn:
                names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            async with engine.begin() as conn:

                def downgrade(sync_conn: Connection) -> set[str]:
                    cfg.attributes["connection"] = sync_conn
                    command.downgrade(cfg, "base")
                    return set(inspect(sync_conn).get_table_names())

                remaining = await conn.run_sync(downgrade)
            assert TABLES <= names
            assert not (TABLES & remaining)
        finally:
            await engine.dispose()
