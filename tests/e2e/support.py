"""Starting a whole suite for a test module."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scripts.stack import SERVICES, Stack, free_port
from yiwang_common.testing import create_database, drop_database, nats_url, reset_streams


def start_stack(backend: str, var_dir: Path) -> tuple[Stack, str | None]:
    """``postgres``: the test server and the test NATS; ``embedded``: both as `make dev` starts them."""
    database_url = asyncio.run(create_database("yiwang_e2e")) if backend == "postgres" else None
    stack = Stack(
        var_dir=var_dir,
        database_url=database_url,
        nats_url=nats_url() if backend == "postgres" else None,
        ports={svc.name: free_port() for svc in SERVICES},
    )
    if backend == "postgres":
        asyncio.run(reset_streams(stack.nats_url))
    stack.ensure_nats()
    stack.ensure_database()
    try:
        stack.migrate()
        stack.load_demo()
        stack.start()
    except Exception:
        stack.stop()
        raise
    return stack, database_url


@contextmanager
def running_stack(backend: str, var_dir: Path) -> Iterator[Stack]:
    """A started suite for the duration of the block; stopped and its database dropped after."""
    running, database_url = start_stack(backend, var_dir)
    try:
        yield running
    finally:
        running.stop()
        if database_url:
            asyncio.run(drop_database(database_url))
