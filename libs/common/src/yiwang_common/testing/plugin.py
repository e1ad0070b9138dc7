"""The pytest plugin of every yiwang test suite: real PostgreSQL databases, real NATS, tokens.

Loaded through the ``pytest11`` entry point of ``yiwang-common``. A service's conftest sets
``database_prefix`` and ``database_migrations`` and builds its own ``settings``/``app`` on
``database_url``; a fixture defined in a conftest or test module overrides the one here (and may
request it by the same name to build on it, as a suite's ``nc`` that also resets its streams).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as NatsClient

from yiwang_common.auth import TokenIssuer
from yiwang_common.config import DatabaseSettings
from yiwang_common.migrations import upgrade_database
from yiwang_common.testing import create_database, drop_database, nats_url, token_issuer


@dataclass(frozen=True)
class Migrations:
    """A service's Alembic environment and the schema it migrates."""

    path: Path
    schema_name: str


@pytest.fixture(scope="session")
def database_prefix() -> str:
    """Prefix of the suite's database names (a conftest names its service here)."""
    return "yiwang_test"


@pytest.fixture(scope="session")
def database_migrations() -> Migrations | None:
    """The migrations ``database_url`` runs; None leaves the database empty."""
    return None


@pytest.fixture(scope="session")
async def database_url(database_prefix: str, database_migrations: Migrations | None) -> AsyncIterator[str]:
    """One fresh database for the session, migrated when the suite says how, dropped after."""
    url = await create_database(database_prefix)
    if database_migrations is not None:
        settings = DatabaseSettings(url=url, schema_name=database_migrations.schema_name)
        await upgrade_database(settings, database_migrations.path)
    yield url
    await drop_database(url)


@pytest.fixture
async def fresh_database_url(database_prefix: str) -> AsyncIterator[str]:
    """An empty database of its own for one test (migration tests), dropped after."""
    url = await create_database(f"{database_prefix}_fresh")
    yield url
    await drop_database(url)


@pytest.fixture
async def nc() -> AsyncIterator[NatsClient]:
    """A connection to the test NATS server (``NATS_URL``)."""
    client = await nats.connect(nats_url())
    yield client
    await client.close()


@pytest.fixture(scope="session")
def issuer() -> TokenIssuer:
    """The token issuer the services under test accept (the development key)."""
    return token_issuer()
