"""The tick loop of a service's ``worker`` process (ADR 0107, 0113): one sweep per tick across replicas.

A tick is whole intervals since the epoch, the same on every replica. Each job of the loop takes
the tick and keeps other replicas out itself (``pg_try_advisory_xact_lock`` and a row per tick in
its own transaction), so a worker killed mid-sweep commits nothing and the next poll sweeps the
tick in full. The loop runs the jobs in order every poll until SIGTERM/SIGINT; a failing job is
logged and retried at the next poll (with ``once`` it raises). Management's supervision sweep and
business's step timers both run on it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


def current_tick(interval: int, now: float | None = None) -> int:
    """The tick a moment falls in: whole intervals since the epoch, the same on every replica."""
    return int((time.time() if now is None else now) // interval)


def worker_name(name: str | None = None) -> str:
    """This worker's name in the sweep logs: the one given, or ``host:pid``."""
    return name or f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Job:
    """One thing the worker does every poll: ``run(tick)``; ``what`` names it in the log."""

    what: str
    run: Callable[[int], Awaitable[Any]]


async def run_ticks(
    jobs: Sequence[Job], *, interval: int, poll_seconds: float, once: bool
) -> tuple[int, list[Any]] | None:
    """Run ``jobs`` every poll until a signal; with ``once`` run the current tick once.

    Returns ``(tick, results)`` of the single tick with ``once`` (a failed job raises), else None
    when stopped.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        while not stop.is_set():
            tick = current_tick(interval)
            results: list[Any] = []
            for job in jobs:
                try:
                    results.append(await job.run(tick))
                except Exception:
                    if once:
                        raise
                    log.exception("%s failed; the next poll retries the tick", job.what)
                    results.append(None)
            if once:
                return tick, results
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll_seconds)
        return None
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def add_worker_arguments(parser: argparse.ArgumentParser, *, interval_env: str) -> None:
    """``--once``, ``--interval`` and ``--name`` of a ``worker`` command."""
    parser.add_argument(
        "--once", action="store_true", help="sweep the current tick once, print the result, exit"
    )
    parser.add_argument("--interval", type=int, default=None, help=f"seconds per tick ({interval_env})")
    parser.add_argument("--name", default=None, help="this worker's name in the sweep log (host:pid)")
