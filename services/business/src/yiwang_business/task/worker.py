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
import json
import logging
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
from yiwang_common.worker import Job, add_worker_arguments, current_tick, run_ticks, worker_name

log = logging.getLogger(__name__)

__all__ = ["BATCH", "COMMANDS", "TickResult", "current_tick", "run_worker", "sweep_tick"]

#: Timers fired per statement inside a tick.
BATCH = 500


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
    worker = worker_name(name)
    engine = create_engine(settings.database)
    sessionmaker = create_sessionmaker(engine)
    source = event_source(settings.platform.region_code)

    async def fire(tick: int) -> TickResult | None:
        return await sweep_tick(
            sessionmaker,
            tick=tick,
            source=source,
            worker=worker,
            max_per_tick=settings.timers.max_per_tick,
        )

    log.info("timer worker started", extra={"worker": worker, "interval": interval})
    try:
        done = await run_ticks(
            (Job("timer sweep", fire),),
            interval=interval,
            poll_seconds=settings.timers.poll_seconds,
            once=once,
        )
        if done is not None:
            tick, (result,) = done
            report = {"tick": tick, "swept": result is not None, "fired": result.fired if result else 0}
            print(json.dumps(report, ensure_ascii=False))  # noqa: T201
        return 0
    finally:
        await engine.dispose()


def _configure_worker(parser: argparse.ArgumentParser) -> None:
    add_worker_arguments(parser, interval_env="BUSINESS_TIMERS__SWEEP_INTERVAL_SECONDS")


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
