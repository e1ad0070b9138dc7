"""Migrations: no drift from the models; they apply to an empty database and revert to nothing."""

from __future__ import annotations

from collections.abc import Sequence

from gateway_support import MIGRATIONS, make_settings
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from yiwang_common.db import create_engine
from yiwang_common.migrations import upgrade_database
from yiwang_common.testing import migration_drift
from yiwang_gateway.db import Base
from yiwang_gateway.models import load_all_models

TABLES = {
    "account",
    "catalogue_item",
    "uploaded_material",
    "application",
    "timeline_entry",
    "outbox",
    "inbox",
    "dead_letter",
    "staff_assignment",
}


def _diff(conn: Connection) -> Sequence[object]:
    load_all_models()
    return migration_drift(conn, Base.metadata)


class TestMigrations:
    async def test_postgres_schema_matches_models(self, database_url: str) -> None:
        engine = create_engine(make_settings(database_url).database)
        try:
            async with engine.connect() as conn:
                assert await conn.run_sync(_diff) == []
        finally:
            await engine.dispose()

    async def test_apply_to_an_empty_database(self, fresh_database_url: str) -> None:
        settings = make_settings(fresh_database_url)
        await upgrade_database(settings.database, MIGRATIONS)
        engine = create_engine(settings.database)
        try:
            async with engine.connect() as conn:
                names = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
                indexes = await conn.run_sync(lambda c: inspect(c).get_indexes("outbox"))
        finally:
            await engine.dispose()
        assert names >= TABLES
        assert any(ix["name"] == "ix_outbox_unpublished" for ix in indexes)

    async def test_downgrade_to_base_removes_every_table(self, fresh_database_url: str) -> None:
        settings = make_settings(fresh_database_url)
        await upgrade_database(settings.database, MIGRATIONS)
        from alembic import command

        from yiwang_common.migrations import alembic_config

        engine = create_engine(settings.database)
        try:
            async with engine.begin() as conn:

                def _down(sync_conn: Connection) -> set[str]:
                    cfg = alembic_config(MIGRATIONS, settings.database)
                    cfg.attributes["connection"] = sync_conn
                    command.downgrade(cfg, "base")
                    return set(inspect(sync_conn).get_table_names())

                remaining = await conn.run_sync(_down)
        finally:
            await engine.dispose()
        assert remaining.isdisjoint(TABLES)
