"""``yiwang-management worker``: the supervision sweep (and the daily reconciliation) as its own
process, and ``calendar`` admin.

API pods scale apart from it; any number of worker replicas may run, and each tick is swept once
(see :mod:`yiwang_management.supervision.sweep`). The worker writes warnings and their outbox rows;
the API pods' relays publish them.
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
import sys
import time
from pathlib import Path
from typing import Any

from yiwang_common.calendar import ScheduleInvalid, WorkingDayCalendar, load_schedule_bytes
from yiwang_common.cli import ExtraCommand
from yiwang_common.db import create_engine, create_sessionmaker, session_scope, utcnow
from yiwang_common.observability import configure_logging
from yiwang_management.config import Settings
from yiwang_management.models import load_all_models
from yiwang_management.payment import service as payment_service
from yiwang_management.payment.sandbox import SandboxProvider
from yiwang_management.shared import event_source, local_date
from yiwang_management.supervision import service
from yiwang_management.supervision.calendar_store import CalendarSync
from yiwang_management.supervision.sweep import sweep

log = logging.getLogger(__name__)


def current_tick(interval: int, now: float | None = None) -> int:
    """The tick a moment falls in: whole intervals since the epoch, the same on every replica."""
    return int((time.time() if now is None else now) // interval)


async def run_worker(
    settings: Settings, *, once: bool, interval: int | None = None, name: str | None = None
) -> int:
    """Sweep every tick until SIGTERM (or one tick with ``once``)."""
    load_all_models()
    interval = interval or settings.supervision.sweep_interval_seconds
    worker = name or f"{socket.gethostname()}:{os.getpid()}"
    engine = create_engine(settings.database)
    sessionmaker = create_sessionmaker(engine)
    calendar = WorkingDayCalendar(settings.calendar.extra_holidays, settings.calendar.extra_workdays)
    sync = CalendarSync(calendar, every_seconds=settings.supervision.calendar_refresh_seconds)
    source = event_source(settings.platform.region_code)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("supervision worker started", extra={"worker": worker, "interval": interval})
    try:
        while not stop.is_set():
            tick = current_tick(interval)
            try:
                result = await sweep(
                    sessionmaker,
                    tick=tick,
                    calendar=calendar,
                    defaults=settings.supervision,
                    source=source,
                    worker=worker,
                    sync=sync,
                )
            except Exception:
                if once:
                    raise
                log.exception("supervision sweep failed; the next poll retries the tick")
                result = None
            try:
                # 每日对账: yesterday's statement, once across workers (ADR 0113).
                await payment_service.reconcile_previous_day(
                    sessionmaker,
                    provider=SandboxProvider(sessionmaker, settings.payment),
                    today=local_date(utcnow()),
                )
            except Exception:
                if once:
                    raise
                log.exception("daily reconciliation failed; the next poll retries it")
            if once:
                report: dict[str, Any] = {"tick": tick, "swept": result is not None}
                if result is not None:
                    report |= {"counts": result.counts, "deemed": result.deemed}
                print(json.dumps(report, ensure_ascii=False))  # noqa: T201
                return 0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=settings.supervision.poll_seconds)
        return 0
    finally:
        await engine.dispose()


async def _calendar(settings: Settings, args: argparse.Namespace, data: bytes | None) -> int:
    load_all_models()
    engine = create_engine(settings.database)
    sessionmaker = create_sessionmaker(engine)
    calendar = WorkingDayCalendar(settings.calendar.extra_holidays, settings.calendar.extra_workdays)
    try:
        async with session_scope(sessionmaker) as session:
            await CalendarSync(calendar, every_seconds=0).refresh(session, force=True)
            if args.action == "list":
                for row in await service.list_schedules(session, calendar):
                    print(json.dumps(row, ensure_ascii=False, default=str))  # noqa: T201
                return 0
            try:
                schedule = load_schedule_bytes(data or b"")
            except ScheduleInvalid as exc:
                for error in exc.errors:
                    print(f"节假日安排文件不符合格式：{error}", file=sys.stderr)  # noqa: T201
                return 2
            moved = await service.load_schedule(
                session, schedule, by=args.by, calendar=calendar, defaults=settings.supervision
            )
        print(json.dumps({"year": schedule.year, "recomputed_cases": moved}, ensure_ascii=False))  # noqa: T201
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
        help="seconds per tick (MANAGEMENT_SUPERVISION__SWEEP_INTERVAL_SECONDS)",
    )
    parser.add_argument("--name", default=None, help="this worker's name in the sweep log (host:pid)")


def _run_worker(settings: Settings, args: argparse.Namespace) -> int:
    configure_logging("management-worker", settings.log_level)
    return asyncio.run(run_worker(settings, once=args.once, interval=args.interval, name=args.name))


def _configure_calendar(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="the years the calendar knows (packaged or loaded)")
    load = actions.add_parser(
        "load", help="load a year's holiday schedule (JSON file) and recompute open cases"
    )
    load.add_argument("file", help="the schedule file (libs/common/.../holiday-schedule.schema.json)")
    load.add_argument("--by", default="命令行", help="who loads it (recorded on each case's history)")


def _run_calendar(settings: Settings, args: argparse.Namespace) -> int:
    data = Path(args.file).read_bytes() if args.action == "load" else None
    return asyncio.run(_calendar(settings, args, data))


COMMANDS = (
    ExtraCommand(
        "worker",
        "run the e-supervision sweep (电子监察) once per tick across replicas",
        _configure_worker,
        _run_worker,
    ),
    ExtraCommand(
        "calendar", "holiday schedules (节假日安排): list, load", _configure_calendar, _run_calendar
    ),
)
