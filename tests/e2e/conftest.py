"""The four services as real processes: on the test PostgreSQL + NATS, and on `make dev`'s embedded ones."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from scripts.flow import Suite
from scripts.stack import SERVICES, Stack
from tests.e2e.support import running_stack

BACKENDS = ["postgres", "embedded"]


@pytest.fixture(scope="module", params=BACKENDS)
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    # Not pytest's tmp_path: it is private to root, and the embedded PostgreSQL never runs as root.
    var_dir = Path(tempfile.mkdtemp(prefix=f"yiwang-e2e-{request.param}-"))
    var_dir.chmod(0o755)
    try:
        with running_stack(request.param, var_dir) as running:
            yield running
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


@pytest.fixture
async def suite(stack: Stack) -> AsyncIterator[Suite]:
    client = Suite.connect({svc.name: stack.url(svc.name) for svc in SERVICES})
    yield client
    await client.aclose()
