"""Engine and sessionmaker factories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from yiwang_common.config import DatabaseSettings

#: Constraint names that Alembic can diff and drop (Polar's convention).
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "ck": "%(table_name)s_%(constraint_name)s_check",
    "fk": "%(table_name)s_%(column_0_N_name)s_fkey",
    "pk": "%(table_name)s_pkey",
}


def is_postgres(url: str) -> bool:
    """Tell whether an SQLAlchemy URL points at PostgreSQL.

    Args:
        url: an SQLAlchemy database URL.

    Returns:
        True for any ``postgresql`` dialect.
    """
    return make_url(url).get_backend_name() == "postgresql"


def normalise_url(url: str) -> str:
    """Turn a plain ``postgresql://`` or ``sqlite://`` URL into its async-driver form.

    Args:
        url: a database URL as an operator would write it.

    Returns:
        The URL with the ``asyncpg`` or ``aiosqlite`` driver.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.drivername != "postgresql+asyncpg":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif backend == "sqlite" and parsed.drivername != "sqlite+aiosqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def json_dumps(value: Any) -> str:
    """Serialise a JSON column value (orjson: several times faster than ``json.dumps``).

    Args:
        value: a JSON-compatible document; non-string keys become strings, as with ``json``.

    Returns:
        Compact JSON text, non-ASCII characters kept as they are.
    """
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the relay read while a request writes; busy_timeout turns lock contention into waits.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    """Create the async engine for one service.

    Args:
        settings: the service's database settings, with ``url`` resolved.

    Returns:
        An engine whose connections see only the service's schema (PostgreSQL) or file (SQLite).

    Raises:
        ValueError: if the URL is missing.
    """
    if not settings.url:
        raise ValueError("database url is not set")
    url = normalise_url(settings.url)
    if is_postgres(url):
        return create_async_engine(
            url,
            echo=settings.echo,
            pool_size=settings.pool_size,
            # No overflow: overflow connections are closed on return, and reconnecting (TLS included)
            # under load costs more than waiting for a pooled one.
            max_overflow=0,
            # No pre-ping: it costs a round trip per unit of work. Stale connections are recycled
            # and a failed unit of work is retried by its caller (client or redelivery).
            pool_recycle=1800,
            connect_args={
                "server_settings": {
                    "search_path": settings.schema_name,
                    # Names the service in pg_stat_activity and the server log.
                    "application_name": f"yiwang-{settings.schema_name}",
                }
            },
            json_serializer=json_dumps,
            json_deserializer=orjson.loads,
        )
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        url,
        echo=settings.echo,
        connect_args={"timeout": 30},
        json_serializer=json_dumps,
        json_deserializer=orjson.loads,
    )
    sync_engine: Engine = engine.sync_engine
    event.listen(sync_engine, "connect", _sqlite_pragmas)
    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Create the sessionmaker every unit of work of a service uses.

    Args:
        engine: the service's engine.

    Returns:
        A sessionmaker with ``expire_on_commit=False`` so that results stay readable after commit.
    """
    return async_sessionmaker(engine, expire_on_commit=False)
