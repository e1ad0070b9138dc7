"""``yiwang-business worker``: the step timers (边界定时器) fired on a schedule, once per tick.

The timers' sweep used to run only when a supervisor called ``POST /api/v1/timers/sweep``. The
worker runs it every tick as its own process, so API pods scale apart from it (ADR 0113, the
pattern of management's supervision worker in ADR 0107): one transaction per tick,
``pg_try_advisory_xact_lock`` keeps a second replica out while one sweeps, and the tick's
``timer_sweep`` row commits with the reminders and their outbox rows, so a later replica finds the
tick done. A worker killed mid-sweep commits nothing and the next poll sweeps the tick in full;
each timer also fires at most once (``task.timer_fired_at``). The API pods' relays publish the
reminders.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import time
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_business.clock import local_date
from yiwang_business.config import Settings
from yiwang_business.models import load_all_models
from yiwang_business.task.actions import case_actions
from yiwang_business.task.repository import TimerSweepRepository
from yiwang_common.cli import ExtraCommand
from yiwang_common.db import create_engine, create_sessionmaker, session_scope, utcnow
from yiwang_common.observability import configure_logging

log = logging.getLogger(__name__)

#: Timers fired per statement inside a tick.
BATCH = 500


def current_tick(interval: int, now: float | None = None) -> int:
    """The tick a moment falls in: whole intervals since the epoch, the same on every replica."""
    return int((time.time() if now is None else now) // interval)


def event_source(region_code: str) -> str:
    """The CloudEvents ``source`` of business events, as the runtime spells it."""
    return f"urn:yiwang:{region_code}:business"


@dataclass(frozen=True)
class TickResult:
    """What one tick's sweep fired."""

    tick: int
    swept_on: date
    fired: int


async def sweep_tick(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    tick: int,
    source: str,
    worker: str,
    max_per_tick: int = 5_000,
    today: date | None = None,
) -> TickResult | None:
    """Fire the timers of one tick; None when another replica holds the sweep or has swept the tick."""
    async with session_scope(sessionmaker) as session:
        sweeps = TimerSweepRepository.from_session(session)
        if not await sweeps.try_lock() or await sweeps.tick_done(tick):
            return None
        started = utcnow()
        day = today or local_date(started)
        fired = 0
        while fired < max_per_tick:
            batch = await case_actions.sweep_timers(
                session, today=day, source=source, limit=min(BATCH, max_per_tick - fired)
            )
            fired += batch
            if batch < BATCH:
                break
        await sweeps.record(
            {
                "tick": tick,
                "swept_on": day,
                "worker": worker[:100],
                "started_at": started,
                "finished_at": utcnow(),
                "fired": fired,
            }
        )
    log.info("timer sweep", extra={"tick": tick, "fired": fired})
    return TickResult(tick=tick, swept_on=day, fired=fired)


async def run_worker(
    settings: Settings, *, once: bool, interval: int | None = None, name: str | None = None
) -> int:
    """Sweep every tick until SIGTERM (or one tick with ``once``)."""
    load_all_models()
    interval = interval or settings.timers.sweep_interval_seconds
    worker = name or f"{socket.gethostname()}:{os.getpid()}"
    engine = create_engine(settings.database)
    sessionmaker = create_sessionmaker(engine)
    source = event_source(settings.platform.region_code)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("timer worker started", extra={"worker": worker, "interval": interval})
    try:
        while not stop.is_set():
            tick = current_tick(interval)
            try:
                result = await sweep_tick(
                    sessionmaker,
                    tick=tick,
                    source=source,
                    worker=worker,
                    max_per_tick=settings.timers.max_per_tick,
                )
            except Exception:
                if once:
                    raise
                log.exception("timer sweep failed; the next poll retries the tick")
                result = None
            if once:
                report = {"tick": tick, "swept": result is not None, "fired": result.fired if result else 0}
                print(json.dumps(report, ensure_ascii=False))  # noqa: T201
                return 0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=settings.timers.poll_seconds)
        return 0
    finally:
        await engine.dispose()


def _configure_worker(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--once", action="store_true", help="sweep the current tick once, print the result, exit"
    )
    parser.add_argument(
        "--interval",
        type=int,
        default=None,
        help="seconds per tick (BUSINESS_TIMERS__SWEEP_INTERVAL_SECONDS)",
    )
    parser.add_argument("--name", default=None, help="this worker's name in the sweep log (host:pid)")


def _run_worker(settings: Settings, args: argparse.Namespace) -> int:
    configure_logging("business-worker", settings.log_level)
    return asyncio.run(run_worker(settings, once=args.once, interval=args.interval, name=args.name))


COMMANDS = (
    ExtraCommand(
        "worker",
        "fire the workflow step timers (边界定时器) once per tick across replicas",
        _configure_worker,
        _run_worker,
    ),
)
