"""The hand-checked initial migration: no drift from the models on PostgreSQL, and it runs on SQLite."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import command
from fastapi import FastAPI
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_sessionmaker

from yiwang_common.config import DatabaseSettings
from yiwang_common.db import create_engine
from yiwang_common.migrations import alembic_config, upgrade_database
from yiwang_common.testing import migration_drift
from yiwang_datasharing.case_record.models import CaseRecord, ProcessStep
from yiwang_datasharing.db import Base
from yiwang_datasharing.material.repository import material_repository
from yiwang_datasharing.models import load_all_models

MIGRATIONS = Path(__file__).resolve().parents[1] / "src" / "yiwang_datasharing" / "migrations"
TABLES = {
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


class TestSqliteMigration:
    async def test_upgrade_creates_every_table_and_handlers_work(
        self, tmp_path: Path, deliver: Any, story: Any
    ) -> None:
        settings = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/x.db", schema_name="datasharing")
        await upgrade_database(settings, MIGRATIONS)
        engine = create_engine(settings)
        try:
            async with engine.connect() as conn:
                names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            assert TABLES <= names
            deliver_here = type(deliver)(async_sessionmaker(engine, expire_on_commit=False), "urn:test")
            for minute, data in enumerate(
                [story.completed(), story.submitted(), story.accepted(), story.decided()]
            ):
                await deliver_here(data, minute)
            async with deliver_here.sessionmaker() as session, session.begin():
                record = await session.get(CaseRecord, story.application_id)
                steps = await session.run_sync(lambda s: s.query(ProcessStep).count())
                await material_repository.add_material(
                    session, sha256="a" * 64, size=1, media_type="application/pdf"
                )
                assert await material_repository.add_owner(
                    session, sha256="a" * 64, owner_id="x", filename=None
                )
                assert not await material_repository.add_owner(
                    session, sha256="a" * 64, owner_id="x", filename=None
                )
            assert (
                record is not None
                and record.status == "completed"
                and record.applicant_id == story.applicant_id
            )
            assert steps == 3
        finally:
            await engine.dispose()

    async def test_downgrade_removes_every_table(self, tmp_path: Path) -> None:
        settings = DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/y.db", schema_name="datasharing")
        await upgrade_database(settings, MIGRATIONS)
        engine = create_engine(settings)
        cfg = alembic_config(MIGRATIONS, settings)
        try:
            async with engine.begin() as conn:

                def downgrade(sync_conn: Connection) -> set[str]:
                    cfg.attributes["connection"] = sync_conn
                    command.downgrade(cfg, "base")
                    return set(inspect(sync_conn).get_table_names())

                remaining = await conn.run_sync(downgrade)
            assert not (TABLES & remaining)
        finally:
            await engine.dispose()
