"""Helpers for tests that run against real PostgreSQL and real NATS JetStream.

The fixtures built on them are in :mod:`yiwang_common.testing.plugin`, a pytest plugin every
test run loads (the ``pytest11`` entry point of ``yiwang-common``). A service's conftest
configures it through two fixtures (``database_prefix``, ``database_migrations``) instead of
copying it.

``TEST_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``) names a
server on which tests create and drop their own databases; ``NATS_URL`` (default
``nats://127.0.0.1:4222``) the NATS server whose ``YIWANG_*`` streams a test run owns.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
import nats
import orjson
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from nats.js import JetStreamContext
from sqlalchemy import MetaData, Table, select
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.auth import Principal, TokenIssuer
from yiwang_common.config import AuthSettings, NatsSettings
from yiwang_common.events.streams import ensure_stream, stream_name

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def admin_url() -> str:
    """Return the URL of the PostgreSQL server tests may create databases on.

    Returns:
        ``TEST_DATABASE_URL`` or the local default.
    """
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_ADMIN_URL)


def nats_url() -> str:
    """Return the NATS server tests use.

    Returns:
        ``NATS_URL`` or ``nats://127.0.0.1:4222``.
    """
    return os.environ.get("NATS_URL", "nats://127.0.0.1:4222")


async def create_database(prefix: str = "yiwang_test") -> str:
    """Create a fresh, uniquely named database.

    Args:
        prefix: the name prefix.

    Returns:
        Its SQLAlchemy URL (``postgresql+asyncpg://…``).
    """
    if os.environ.get("YIWANG_SKIP_POSTGRES") == "1":
        import pytest

        pytest.skip("no PostgreSQL server could be reached or started (make test says so at the end)")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    url = make_url(admin_url())
    conn = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url.set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)


async def drop_database(url: str) -> None:
    """Drop a database made by :func:`create_database`, closing its leftover connections.

    Args:
        url: the database URL.
    """
    name = make_url(url).database
    admin = make_url(admin_url()).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def reset_streams(url: str | None = None) -> None:
    """Delete every ``YIWANG_*`` stream so that a test run starts from an empty bus.

    Args:
        url: the NATS URL (defaults to :func:`nats_url`).
    """
    nc = await nats.connect(url or nats_url())
    try:
        js = nc.jetstream()
        for name in await js.streams_info():
            if name.config.name and name.config.name.startswith("YIWANG_"):
                await js.delete_stream(name.config.name)
    finally:
        await nc.close()


async def fresh_streams(js: JetStreamContext, *producers: str, settings: NatsSettings | None = None) -> None:
    """Recreate the streams of ``producers`` empty, so that a test sees only its own events.

    Args:
        js: the JetStream context.
        *producers: service names (``gateway``, ``management`` …).
        settings: stream settings (defaults).
    """
    for producer in producers:
        try:
            await js.delete_stream(stream_name(producer))
        except nats.js.errors.NotFoundError:
            pass
        await ensure_stream(js, producer, settings or NatsSettings())


_ISSUER: TokenIssuer | None = None


def token_issuer() -> TokenIssuer:
    """Return the development-key token issuer the services under test verify against.

    Returns:
        One issuer per process (building one loads the key).
    """
    global _ISSUER
    if _ISSUER is None:
        _ISSUER = TokenIssuer(AuthSettings())
    return _ISSUER


def bearer(principal: Principal, issuer: TokenIssuer | None = None) -> dict[str, str]:
    """Return the ``Authorization`` header of a token for ``principal``.

    Args:
        principal: who the token names.
        issuer: the issuer (defaults to :func:`token_issuer`).

    Returns:
        ``{"Authorization": "Bearer …"}``.
    """
    return {"Authorization": f"Bearer {(issuer or token_issuer()).issue(principal)}"}


async def outbox_events(
    sessionmaker: async_sessionmaker[AsyncSession], outbox: Table, subject: str | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """Return the events in a service's outbox, oldest first.

    Args:
        sessionmaker: the service's sessions.
        outbox: its outbox table.
        subject: only rows of this NATS subject, when given.

    Returns:
        (NATS subject, envelope as a dict) per row.
    """
    statement = select(outbox.c.subject, outbox.c.payload).order_by(outbox.c.seq)
    if subject is not None:
        statement = statement.where(outbox.c.subject == subject)
    async with sessionmaker() as session:
        rows = (await session.execute(statement)).all()
    return [(r.subject, orjson.loads(r.payload)) for r in rows]


def migration_drift(conn: Connection, metadata: MetaData) -> Sequence[Any]:
    """Compare a migrated database with the models (run it with ``AsyncConnection.run_sync``).

    Args:
        conn: a connection to the migrated database, in the service's schema.
        metadata: the service's ``Base.metadata`` with every model loaded.

    Returns:
        Alembic's differences; empty when the migrations create exactly the models.
    """

    def include_name(name: str | None, type_: str, _parents: Any) -> bool:
        return not (type_ == "table" and name == "alembic_version")

    context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name})
    return list(compare_metadata(context, metadata))
