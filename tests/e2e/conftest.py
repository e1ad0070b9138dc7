"""The four services as real processes, on PostgreSQL + the test NATS, and on the SQLite default."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from scripts.flow import Suite
from scripts.stack import SERVICES, Stack
from tests.e2e.support import running_stack

BACKENDS = ["postgres", "sqlite"]


@pytest.fixture(scope="module", params=BACKENDS)
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(request.param, tmp_path_factory.mktemp(f"stack-{request.param}")) as running:
        yield running


@pytest.fixture
async def suite(stack: Stack) -> AsyncIterator[Suite]:
    client = Suite.connect({svc.name: stack.url(svc.name) for svc in SERVICES})
    yield client
    await client.aclose()
