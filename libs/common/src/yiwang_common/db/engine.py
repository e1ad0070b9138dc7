"""Engine and sessionmaker factories."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.engine import make_url
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


def normalise_url(url: str) -> str:
    """Turn a plain ``postgresql://`` URL into its asyncpg form.

    Args:
        url: a database URL as an operator would write it.

    Returns:
        The URL with the ``asyncpg`` driver.

    Raises:
        ValueError: if the URL is not a PostgreSQL URL (the only database the platform runs on).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"only PostgreSQL is supported, got a {parsed.get_backend_name()!r} URL")
    if parsed.drivername != "postgresql+asyncpg":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def json_dumps(value: Any) -> str:
    """Serialise a JSON column value (orjson: several times faster than ``json.dumps``).

    Args:
        value: a JSON-compatible document; non-string keys become strings, as with ``json``.

    Returns:
        Compact JSON text, non-ASCII characters kept as they are.
    """
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    """Create the async engine for one service.

    Args:
        settings: the service's database settings, with ``url`` resolved.

    Returns:
        An engine whose connections see only the service's schema.

    Raises:
        ValueError: if the URL is missing or not a PostgreSQL URL.
    """
    if not settings.url:
        raise ValueError(
            "未配置数据库 (no database configured): set DATABASE_URL=postgresql://…, "
            "or run `make dev`, which starts an embedded PostgreSQL"
        )
    url = normalise_url(settings.url)
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


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Create the sessionmaker every unit of work of a service uses.

    Args:
        engine: the service's engine.

    Returns:
        A sessionmaker with ``expire_on_commit=False`` so that results stay readable after commit.
    """
    return async_sessionmaker(engine, expire_on_commit=False)
