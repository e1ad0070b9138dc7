"""``make bench-supervision``: the e-supervision sweep (电子监察巡检) over N open cases (default 1,000,000).

1. A fresh PostgreSQL database migrated with management's own migrations.
2. N accepted cases loaded with COPY into ``case_file`` and their clocks into ``case_deadline``:
   clocks started over the last 45 days with promised limits of 5–20 working days, due dates and
   warning dates computed with the real calendar. The state is that of a platform whose earlier
   daily sweeps ran: clocks whose warning date (or due date) passed before today are marked warned
   (``warned_level``), so today's sweep raises what crosses today. Cases whose due date is still
   weeks away make up most of the N and sit in the partial indexes' key range untouched.
3. Times the real sweep (``yiwang_management.supervision.sweep.sweep``: one transaction, advisory
   lock, set-based UPDATE … RETURNING → INSERT warnings → INSERT outbox per level), then a second
   tick (nothing new: the cost of looking).

Writes ``bench/results/supervision.json`` with ``open_cases`` and ``sweep_s`` (plus detail).
Other benches add their keys to the same file with :func:`merge_results` (the signing bench's
``<alg>_sign_per_s`` … keys; see the Makefile's ``bench-supervision``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from scripts.stack import ROOT
from yiwang_common.calendar import WorkingDayCalendar
from yiwang_common.db import create_engine, create_sessionmaker
from yiwang_common.migrations import upgrade_database
from yiwang_common.testing import create_database, drop_database
from yiwang_management.config import Settings, SupervisionSettings
from yiwang_management.models import load_all_models
from yiwang_management.shared import local_date
from yiwang_management.supervision.sweep import sweep

RESULTS = ROOT / "bench" / "results"
RESULT_FILE = RESULTS / "supervision.json"
MIGRATIONS = ROOT / "services" / "management" / "src" / "yiwang_management" / "migrations"
ORGS = [f"1153042801517{i:04d}X" for i in range(40)]
REGIONS = ["530428", "530402", "530102", "511503"]
CASE_COLUMNS = (
    "case_no", "application_id", "item_code", "item_name", "org_code", "org_name", "applicant_id", "applicant",
    "channel", "form", "materials", "required_materials", "statutory_limit_days", "promised_limit_days",
    "missing_materials", "status", "submitted_at", "registered_at", "accepted_at", "clock_start", "due_date",
    "statutory_due_date",
)  # fmt: skip
DEADLINE_COLUMNS = (
    "case_no", "item_code", "org_code", "region_code", "channel", "clock_start", "promised_limit_days",
    "statutory_limit_days", "due_date", "statutory_due_date", "warn_date", "provisional", "paused", "paused_days",
    "extension_days", "warned_level", "deemed_approved",
)  # fmt: skip


def merge_results(values: dict[str, Any], path: Path = RESULT_FILE) -> dict[str, Any]:
    """Add keys to ``supervision.json`` (keeping the others): the hook other benches write through."""
    current: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    current |= values
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(current, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return current


_CLOCKS: dict[tuple[date, int], tuple[date, date, date]] = {}


def _rows(
    first: int, n: int, today: date, calendar: WorkingDayCalendar
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    rng = random.Random(first)
    clocks = _CLOCKS
    cases, deadlines = [], []
    now = datetime.now(UTC)
    applicant = json.dumps(
        {"account_id": "bench", "name": "压测", "kind": "natural_person", "id_type": "111", "id_number": "x"}
    )
    for i in range(first, first + n):
        region = REGIONS[i % len(REGIONS)]
        case_no = f"{region}{today:%Y%m%d}{i:07d}"[:21]
        org = ORGS[i % len(ORGS)]
        start = today - timedelta(days=rng.randint(1, 45))
        promised = rng.choice((5, 10, 15, 20))
        key = (start, promised)
        if key not in clocks:
            due = calendar.add_working_days(start, promised)
            statutory = calendar.add_working_days(start, promised + 5)
            warn = max(start, calendar.subtract_working_days(due, 2))
            clocks[key] = (due, statutory, warn)
        due, statutory, warn = clocks[key]
        # Earlier daily sweeps already warned what crossed before today.
        level = 2 if due < today - timedelta(days=1) else 1 if warn < today else 0
        item = f"ITEM{i % 500:04d}"
        channel = ("online", "window", "mobile")[i % 3]
        cases.append(
            (case_no, uuid.uuid4(), item, "压测事项", org, "压测部门", "bench", applicant, channel, "{}", "[]", "[]",
             promised + 5, promised, "[]", "accepted", now, now, now, start, due, statutory)
        )  # fmt: skip
        deadlines.append(
            (case_no, item, org, region, channel, start, promised, promised + 5, due, statutory, warn, False, False,
             0, 0, level, False)
        )  # fmt: skip
    return cases, deadlines


async def load(url: str, n: int, today: date, calendar: WorkingDayCalendar) -> float:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    start = time.perf_counter()
    try:
        for chunk in range(0, n, 100_000):
            cases, deadlines = _rows(chunk, min(100_000, n - chunk), today, calendar)
            await conn.copy_records_to_table(
                "case_file", schema_name="management", columns=CASE_COLUMNS, records=cases
            )
            await conn.copy_records_to_table(
                "case_deadline", schema_name="management", columns=DEADLINE_COLUMNS, records=deadlines
            )
        await conn.execute("ANALYZE management.case_file; ANALYZE management.case_deadline")
    finally:
        await conn.close()
    return time.perf_counter() - start


async def run(n: int) -> dict[str, Any]:
    url = await create_database("yiwang_bench_supervision")
    try:
        settings = Settings(database={"url": url})
        await upgrade_database(settings.database, MIGRATIONS)
        load_all_models()
        calendar = WorkingDayCalendar()
        today = local_date(datetime.now(UTC))
        load_s = await load(url, n, today, calendar)
        engine = create_engine(settings.database)
        sessionmaker = create_sessionmaker(engine)
        try:
            common = {
                "calendar": calendar,
                "defaults": SupervisionSettings(),
                "source": "urn:yiwang:530428:management",
                "worker": "bench",
                "today": today,
            }
            started = time.perf_counter()
            first = await sweep(sessionmaker, tick=1, **common)
            sweep_s = time.perf_counter() - started
            started = time.perf_counter()
            second = await sweep(sessionmaker, tick=2, **common)
            repeat_s = time.perf_counter() - started
        finally:
            await engine.dispose()
        assert first is not None and second is not None
    finally:
        await drop_database(url)
    return {
        "open_cases": n,
        "sweep_s": round(sweep_s, 3),
        "sweep_warnings": first.counts,
        "sweep_repeat_s": round(repeat_s, 3),
        "copy_load_s": round(load_s, 1),
        "host": {"cpus": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    args = parser.parse_args()
    result = asyncio.run(run(args.n))
    print(json.dumps(merge_results(result), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
