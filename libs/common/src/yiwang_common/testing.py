"""Helpers for tests that run against real PostgreSQL and real NATS JetStream.

``TEST_DATABASE_URL`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``) names a
server on which tests create and drop their own databases; ``NATS_URL`` (default
``nats://127.0.0.1:4222``) the NATS server whose ``YIWANG_*`` streams a test run owns.
"""

from __future__ import annotations

import functools
import os
import uuid
from typing import Any

import asyncpg
import nats
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from yiwang_common.config import AuthSettings
from yiwang_common.keys import generate_keypair

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


@functools.cache
def _ephemeral_keypair() -> tuple[str, str]:
    return generate_keypair()


def ephemeral_auth(**overrides: Any) -> AuthSettings:
    """Token settings with a key pair generated once per test process (never a fixed key).

    Issue test tokens with ``TokenIssuer(ephemeral_auth())`` and give the same settings to the
    app under test, so that the app verifies exactly the tokens the test signed.

    Args:
        **overrides: other ``AuthSettings`` fields (issuer, audience, ttl).

    Returns:
        The settings, private and public key filled in.
    """
    private_pem, public_pem = _ephemeral_keypair()
    return AuthSettings(public_key_pem=public_pem, private_key_pem=SecretStr(private_pem), **overrides)
