"""``make bench-case-list``: a staff member's authorised case list at 1,000,000 cases, over HTTP.

1. Migrates a fresh PostgreSQL database with management's own migrations and loads N cases
   (default 1,000,000) with COPY straight into ``management.case_file`` — the table that serves
   the staff list — spread over 20 county regions × 10 departments each (5,000 cases per
   department at 1M), 100 registration days, every status.
2. Starts the real management service (``yiwang-management serve``: uvicorn, httptools, uvloop,
   one process, no workers) on a free port with a throwaway Ed25519 key.
3. Over HTTP: ``GET /api/v1/cases?page=P&limit=20`` with the tokens of 200 handling staff (one per
   department, each with its unit and region: ADR 0105), pages 1-5, one client at a time for the
   latency (p50 / p95 / p99, client-observed) and ``--concurrency`` clients for the rate.
4. The bare-FastAPI ceiling (bench/ceilings.py) in the same run.

Writes ``bench/results/case_list.json``. ``measure()`` is what ``make bench-identity`` folds in.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from sqlalchemy.engine import make_url

from bench import ceilings
from scripts.stack import ROOT, free_port
from yiwang_common.auth import Principal, TokenIssuer
from yiwang_common.checkdigits import mod37_36_check, uscc_check
from yiwang_common.config import AuthSettings, DatabaseSettings
from yiwang_common.keys import generate_keypair
from yiwang_common.migrations import upgrade_database
from yiwang_common.testing import create_database, drop_database

RESULTS = ROOT / "bench" / "results"
MIGRATIONS = ROOT / "services" / "management" / "src" / "yiwang_management" / "migrations"
#: 20 county-level regions of GB/T 2260 (玉溪市 and 昆明市): where the departments sit.
REGIONS = [f"5304{c:02d}" for c in range(21, 31)] + [f"5301{c:02d}" for c in range(11, 21)]
DEPARTMENTS_PER_REGION = 10
DAYS = 100
PAGE_SIZE = 20
STATUSES = ["pending_acceptance", "awaiting_supplement", "accepted", "not_accepted", "completed"]
COLUMNS = (
    "case_no",
    "application_id",
    "item_code",
    "item_name",
    "org_code",
    "org_name",
    "applicant_id",
    "applicant",
    "channel",
    "form",
    "materials",
    "required_materials",
    "statutory_limit_days",
    "promised_limit_days",
    "missing_materials",
    "status",
    "submitted_at",
    "registered_at",
)


def departments() -> list[tuple[str, str]]:
    """(统一社会信用代码, region) of every department of the bench."""
    out = []
    for region in REGIONS:
        for d in range(DEPARTMENTS_PER_REGION):
            first17 = f"11{region}{d + 1:09d}"
            out.append((first17 + uscc_check(first17), region))
    return out


def rows(n: int, seed: int = 7) -> Iterator[tuple[Any, ...]]:
    """N case rows: departments round-robin, days spread, a daily 办件编号 sequence per region."""
    rng = random.Random(seed)
    units = departments()
    start = datetime(2026, 8, 1, 1, 0, tzinfo=UTC)
    sequence: dict[tuple[str, int], int] = {}
    for i in range(n):
        org, region = units[i % len(units)]
        day = (i // len(units)) % DAYS
        sequence[(region, day)] = seq = sequence.get((region, day), 0) + 1
        registered = start + timedelta(days=day, seconds=rng.randrange(8 * 3600))
        payload = f"{region}{(start + timedelta(days=day)):%Y%m%d}{seq:06d}"
        applicant = f'{{"account_id":"a{i}","name":"申请人{i % 1000}","kind":"natural_person","id_type":"111","id_number":"530428199001011231"}}'
        yield (
            payload + mod37_36_check(payload),
            uuid.UUID(int=i + 1),
            f"{org}2000109003000",
            "建筑工程施工许可证核发",
            org,
            f"部门{org[-6:]}",
            f"a{i}",
            applicant,
            "online",
            "{}",
            "[]",
            "[]",
            20,
            5,
            "[]",
            STATUSES[i % len(STATUSES)],
            registered,
            registered,
        )


async def load(url: str, n: int, chunk: int = 100_000) -> float:
    """COPY N rows into management.case_file; seconds taken, VACUUM ANALYZE included."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        begin = time.perf_counter()
        batch: list[tuple[Any, ...]] = []
        for row in rows(n):
            batch.append(row)
            if len(batch) == chunk:
                await conn.copy_records_to_table(
                    "case_file", records=batch, columns=COLUMNS, schema_name="management"
                )
                batch = []
        if batch:
            await conn.copy_records_to_table(
                "case_file", records=batch, columns=COLUMNS, schema_name="management"
            )
        # The visibility map lets the page count be an index-only scan, as on a settled table.
        await conn.execute("VACUUM ANALYZE management.case_file")
        return time.perf_counter() - begin
    finally:
        await conn.close()


async def start_management(url: str, public_pem: str) -> tuple[subprocess.Popen[bytes], str]:
    """The real management service, no workers, verifying tokens with ``public_pem``."""
    port = free_port()
    log_path = ROOT / "var" / "bench" / "management-case-list.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MANAGEMENT_")}
    env.update(
        {
            "DATABASE_URL": url,
            "MANAGEMENT_PORT": str(port),
            "MANAGEMENT_HOST": "127.0.0.1",
            "MANAGEMENT_RUN_WORKERS": "false",
            "MANAGEMENT_AUTH__PUBLIC_KEY_PEM": public_pem,
            "MANAGEMENT_LOG_LEVEL": "WARNING",
            "YIWANG_VAR_DIR": str(ROOT / "var" / "bench"),
        }
    )
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "yiwang-management"), "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(f"{base}/readyz") as r:
                    if r.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.terminate()
                raise RuntimeError(f"management did not start (see {log_path})")
            await asyncio.sleep(0.1)
    return proc, base


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def over_http(base: str, tokens: list[str], requests: int, concurrency: int) -> dict[str, Any]:
    """Latency one request at a time, then the rate with ``concurrency`` clients."""
    rng = random.Random(11)
    plan = [(rng.choice(tokens), rng.randint(1, 5)) for _ in range(requests)]
    url = f"{base}/api/v1/cases"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:

        async def one(token: str, page: int) -> float:
            begin = time.perf_counter()
            async with http.get(
                url, params={"page": page, "limit": PAGE_SIZE}, headers={"Authorization": f"Bearer {token}"}
            ) as r:
                body = await r.json()
                assert r.status == 200, body
                assert len(body["items"]) == PAGE_SIZE, body["pagination"]
            return (time.perf_counter() - begin) * 1000

        for token, page in plan[:200]:  # warm-up: connections, token cache, statement cache
            await one(token, page)
        latencies = [await one(token, page) for token, page in plan]
        queue = list(plan)

        async def worker() -> None:
            while queue:
                token, page = queue.pop()
                await one(token, page)

        begin = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        rate = len(plan) / (time.perf_counter() - begin)
    return {
        "case_list_p50_ms": round(percentile(latencies, 0.50), 2),
        "case_list_p95_ms": round(percentile(latencies, 0.95), 2),
        "case_list_p99_ms": round(percentile(latencies, 0.99), 2),
        "case_list_req_per_s": round(rate, 1),
    }


def staff_tokens() -> tuple[list[str], str]:
    """One handling staff token per department (unit + region), and the public key to verify them."""
    private_pem, public_pem = generate_keypair()
    issuer = TokenIssuer(AuthSettings(public_key_pem=public_pem, private_key_pem=private_pem))
    tokens = [
        issuer.issue(
            Principal(
                sub=f"bench-{org}",
                name="窗口受理",
                kind="staff",
                roles=frozenset({"acceptor", "receiver"}),
                org_code=org,
                region=region,
            )
        )
        for org, region in departments()
    ]
    return tokens, public_pem


async def measure(n: int = 1_000_000, requests: int = 2000, concurrency: int = 8) -> dict[str, Any]:
    """Load N cases, measure the staff list over HTTP and the bare-FastAPI ceiling; the result dict.

    Keys: ``case_list_1m_p95_ms`` (the p95 at N cases, the issue's target < 20 ms at 1M),
    ``fastapi_req_per_s``, and the details.
    """
    url = await create_database("yiwang_bench_case_list")
    proc: subprocess.Popen[bytes] | None = None
    try:
        await upgrade_database(DatabaseSettings(url=url, schema_name="management"), MIGRATIONS)
        load_s = await load(url, n)
        tokens, public_pem = staff_tokens()
        proc, base = await start_management(url, public_pem)
        http = await over_http(base, tokens, requests, concurrency)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
        await drop_database(url)
    ceiling = await ceilings.fastapi_bare()
    return {
        "cases": n,
        "departments": len(departments()),
        "regions": len(REGIONS),
        "page_size": PAGE_SIZE,
        "case_list_1m_p95_ms": http["case_list_p95_ms"],
        **http,
        "fastapi_req_per_s": ceiling["fastapi_req_per_s"],
        "case_list_vs_fastapi": round(http["case_list_req_per_s"] / ceiling["fastapi_req_per_s"], 3),
        "load_rows_per_s": round(n / load_s, 1),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    result = asyncio.run(measure(args.n, args.requests, args.concurrency))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "case_list.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
