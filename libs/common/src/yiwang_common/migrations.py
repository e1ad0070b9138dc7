"""One Alembic environment per service: shared ``env.py`` logic and a programmatic upgrade."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection

from yiwang_common.config import DatabaseSettings
from yiwang_common.db.engine import create_engine


def alembic_config(script_location: Path, settings: DatabaseSettings) -> Config:
    """Build an Alembic config for a service without reading an ini file.

    Args:
        script_location: the service's ``migrations`` directory.
        settings: the service's database settings.

    Returns:
        The config; ``attributes["db"]`` carries the settings to ``env.py``.
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.attributes["db"] = settings
    return cfg


def _not_version_table(name: str | None, type_: str, _parent: object) -> bool:
    # The version table sits in the service's schema like its tables; autogenerate must not drop it.
    return not (type_ == "table" and name == "alembic_version")


def _configure_and_run(connection: Connection, target_metadata: MetaData, schema: str) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_name=_not_version_table,
        version_table_schema=schema,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(settings: DatabaseSettings, target_metadata: MetaData) -> None:
    engine = create_engine(settings)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{settings.schema_name}"'))
        async with engine.connect() as conn:
            await conn.run_sync(_configure_and_run, target_metadata, settings.schema_name)
            await conn.commit()
    finally:
        await engine.dispose()


def run_env(target_metadata: MetaData, default_settings: DatabaseSettings | None = None) -> None:
    """Body of every service's ``migrations/env.py``.

    Args:
        target_metadata: the service's ``Base.metadata``.
        default_settings: used when Alembic is run from the command line.
    """
    cfg = context.config
    connection: Connection | None = cfg.attributes.get("connection")
    settings: DatabaseSettings | None = cfg.attributes.get("db", default_settings)
    if settings is None:
        raise RuntimeError("no database settings for migrations")
    if connection is not None:
        _configure_and_run(connection, target_metadata, settings.schema_name)
    else:
        asyncio.run(_run_async(settings, target_metadata))


async def upgrade_database(settings: DatabaseSettings, script_location: Path, revision: str = "head") -> None:
    """Apply a service's migrations from inside a running event loop.

    Args:
        settings: the service's database settings.
        script_location: the service's ``migrations`` directory.
        revision: target revision.
    """
    engine = create_engine(settings)
    cfg = alembic_config(script_location, settings)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{settings.schema_name}"'))

            def _upgrade(sync_conn: Connection) -> None:
                cfg.attributes["connection"] = sync_conn
                command.upgrade(cfg, revision)

            await conn.run_sync(_upgrade)
    finally:
        await engine.dispose()
