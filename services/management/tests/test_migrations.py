"""Migrations: no drift from the models; upgrade an empty database, use it, downgrade it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alembic import command
from fastapi import FastAPI
from management_factories import ACCEPTOR, MIGRATIONS, register, submitted
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from yiwang_common.calendar import WorkingDayCalendar
from yiwang_common.config import DatabaseSettings
from yiwang_common.db import create_engine, create_sessionmaker, session_scope
from yiwang_common.migrations import alembic_config, upgrade_database
from yiwang_common.testing import ephemeral_auth, migration_drift
from yiwang_management.case import service as case_service
from yiwang_management.case.handlers import CaseEventHandlers
from yiwang_management.config import Settings
from yiwang_management.db import Base
from yiwang_management.demo import load_demo

TABLES = {
    "alembic_version",
    "org_department",
    "org_post",
    "org_region",
    "staff_member",
    "staff_post",
    "case_file",
    "case_sequence",
    "catalogue_entry",
    "catalogue_import",
    "catalogue_import_error",
    "catalogue_import_file",
    "case_step",
    "dead_letter",
    "inbox",
    "item",
    "item_version",
    "outbox",
    # e-supervision (电子监察) and the holiday schedules
    "calendar_schedule",
    "case_deadline",
    "case_due_change",
    "case_pause",
    "case_step_clock",
    "supervision_action",
    "supervision_rule",
    "supervision_sweep",
    "supervision_warning",
    # 联办 and the plug-in contract (ADR 0112)
    "item_handler",
    "joint_part",
    "plugin_system",
    "plugin_token",
    # fees, payment, reconciliation, the sandbox provider's books, delivery (ADR 0113)
    "item_fee",
    "item_payment_rule",
    "payment_order",
    "payment_notification",
    "payment_reconciliation",
    "payment_reconciliation_line",
    "sandbox_payment",
    "case_delivery",
    "delivery_event",
}


def _diff(conn: Connection) -> Sequence[Any]:
    return migration_drift(conn, Base.metadata)


def _table_names(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


class TestPostgresMigrations:
    async def test_models_and_migrations_do_not_drift(self, app: FastAPI) -> None:
        async with app.state.runtime.engine.connect() as conn:
            assert await conn.run_sync(_diff) == []

    async def test_outbox_has_the_partial_unpublished_index(self, app: FastAPI) -> None:
        async with app.state.runtime.engine.connect() as conn:
            indexes = await conn.run_sync(lambda c: inspect(c).get_indexes("outbox"))
        (unpublished,) = [i for i in indexes if i["name"] == "ix_outbox_unpublished"]
        assert "published_at IS NULL" in unpublished["dialect_options"]["postgresql_where"]


class TestFreshDatabase:
    async def test_upgrade_serve_a_case_and_downgrade(self, fresh_database_url: str) -> None:
        database = DatabaseSettings(url=fresh_database_url, schema_name="management")
        await upgrade_database(database, MIGRATIONS)
        engine = create_engine(database)
        try:
            async with engine.connect() as conn:
                assert await conn.run_sync(_table_names) == TABLES
            await load_demo(Settings(database=database, auth=ephemeral_auth()))
            sessionmaker = create_sessionmaker(engine)
            calendar = WorkingDayCalendar()
            handlers = CaseEventHandlers(calendar=calendar, region_code="530428")
            case_no = await register(sessionmaker, handlers, submitted())
            assert await register(sessionmaker, handlers, submitted()) != case_no
            async with session_scope(sessionmaker) as session:
                case = await case_service.accept_case(
                    session,
                    case_no=case_no,
                    principal=ACCEPTOR,
                    opinion="予以受理",
                    calendar=calendar,
                    source="t",
                )
                assert [s.step_key for s in await case_service.case_steps(session, case)] == [
                    "apply",
                    "accept",
                ]

            def downgrade(conn: Connection) -> None:
                config = alembic_config(MIGRATIONS, database)
                config.attributes["connection"] = conn
                command.downgrade(config, "base")

            async with engine.begin() as conn:
                await conn.run_sync(downgrade)
            async with engine.connect() as conn:
                assert await conn.run_sync(_table_names) == {"alembic_version"}
        finally:
            await engine.dispose()
