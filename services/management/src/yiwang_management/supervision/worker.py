"""``yiwang-management worker``: the supervision sweep (and the daily reconciliation) as its own
process, and ``calendar`` admin.

API pods scale apart from it; any number of worker replicas may run, and each tick is swept once
(see :mod:`yiwang_management.supervision.sweep`). The worker writes warnings and their outbox rows;
the API pods' relays publish them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any

from yiwang_common.calendar import ScheduleInvalid, WorkingDayCalendar, load_schedule_bytes
from yiwang_common.cli import ExtraCommand
from yiwang_common.db import create_engine, create_sessionmaker, session_scope, utcnow
from yiwang_common.observability import configure_logging
from yiwang_common.worker import Job, add_worker_arguments, current_tick, run_ticks, worker_name
from yiwang_management.config import Settings
from yiwang_management.models import load_all_models
from yiwang_management.payment import service as payment_service
from yiwang_management.payment.sandbox import SandboxProvider
from yiwang_management.shared import event_source, local_date
from yiwang_management.supervision import service
from yiwang_management.supervision.calendar_store import CalendarSync
from yiwang_management.supervision.sweep import sweep

log = logging.getLogger(__name__)

__all__ = ["COMMANDS", "current_tick", "run_worker"]


async def run_worker(
    settings: Settings, *, once: bool, interval: int | None = None, name: str | None = None
) -> int:
    """Sweep every tick until SIGTERM (or one tick with ``once``)."""
    load_all_models()
    interval = interval or settings.supervision.sweep_interval_seconds
    worker = worker_name(name)
    engine = create_engine(settings.database)
    sessionmaker = create_sessionmaker(engine)
    calendar = WorkingDayCalendar(settings.calendar.extra_holidays, settings.calendar.extra_workdays)
    sync = CalendarSync(calendar, every_seconds=settings.supervision.calendar_refresh_seconds)
    source = event_source(settings.platform.region_code)

    async def supervise(tick: int) -> Any:
        return await sweep(
            sessionmaker,
            tick=tick,
            calendar=calendar,
            defaults=settings.supervision,
            source=source,
            worker=worker,
            sync=sync,
        )

    async def reconcile(tick: int) -> None:
        # 每日对账: yesterday's statement, once across workers (ADR 0113).
        await payment_service.reconcile_previous_day(
            sessionmaker,
            provider=SandboxProvider(sessionmaker, settings.payment),
            today=local_date(utcnow()),
        )

    log.info("supervision worker started", extra={"worker": worker, "interval": interval})
    try:
        done = await run_ticks(
            (Job("supervision sweep", supervise), Job("daily reconciliation", reconcile)),
            interval=interval,
            poll_seconds=settings.supervision.poll_seconds,
            once=once,
        )
        if done is not None:
            tick, (result, _) = done
            report: dict[str, Any] = {"tick": tick, "swept": result is not None}
            if result is not None:
                report |= {"counts": result.counts, "deemed": result.deemed}
            print(json.dumps(report, ensure_ascii=False))  # noqa: T201
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
    add_worker_arguments(parser, interval_env="MANAGEMENT_SUPERVISION__SWEEP_INTERVAL_SECONDS")


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
