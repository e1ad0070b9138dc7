"""The catalogue's share of ``make bench-search``: import rate and publish → searchable, through management.

- Import: an N-row xlsx in management's template (bench/catalogue_gen.py ``template_rows``, both
  sheets) goes through management's real ``POST /catalogue/imports`` (in process over ASGI, on
  the bench's PostgreSQL) as the centre; the request stores the file and answers 202, and the
  app's import worker validates every row and writes each as a draft. Rows/s is rows over the
  time from the request to the job's ``finished_at`` (upload, reading, validation, the
  workflow's checks, the batched inserts and the job's progress). Writing the file is not
  counted. The re-import of the same file is the idempotent path (rows skipped by their hash).

Standalone (its own database, no gateway): ``python -m bench.catalogue --n 100000``.
- Publish → searchable: the same management app, with its outbox relay on the real NATS,
  submits, approves and publishes imported drafts one at a time; the clock runs from the publish
  request to the moment the running gateway's ``GET /api/v1/catalogue/search`` returns the item
  (polled every 5 ms): outbox → JetStream → the gateway's consumer → its table → its index.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from fastapi import FastAPI

from bench.catalogue_gen import template_rows
from yiwang_common.auth import Principal
from yiwang_common.config import DatabaseSettings, NatsSettings
from yiwang_common.testing import bearer, ephemeral_auth
from yiwang_management.catalogue import spreadsheet
from yiwang_management.config import Settings
from yiwang_management.main import create_app

CENTRE = Principal(
    sub="bench-centre", name="中心管理员", kind="staff", roles=frozenset({"admin"}), org_code="X"
)


@asynccontextmanager
async def management(url: str, nats_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Management's real app on the bench database, its workers (outbox relay) on the bus."""
    settings = Settings(
        database=DatabaseSettings(url=url, schema_name="management"),
        nats=NatsSettings(url=nats_url),
        auth=ephemeral_auth(),
        run_workers=True,
    )
    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench/api/v1", timeout=3600) as c:
            yield c


async def _run_import(client: httpx.AsyncClient, data: bytes) -> tuple[dict[str, Any], float]:
    """POST the file, poll the job until it ends; the job and seconds from request to finish."""
    started = datetime.now(UTC)
    r = await client.post(
        "/catalogue/imports", content=data, params={"filename": "实施清单.xlsx"}, headers=bearer(CENTRE)
    )
    assert r.status_code == 202, r.text[:2000]
    location = client.base_url.copy_with(path=r.headers["location"])
    while True:
        await asyncio.sleep(0.5)
        job = (await client.get(location, headers=bearer(CENTRE))).json()
        if job["finished"]:
            break
    seconds = (datetime.fromisoformat(job["finished_at"]) - started).total_seconds()
    return job, seconds


async def import_rate(client: httpx.AsyncClient, n: int) -> dict[str, Any]:
    start = time.perf_counter()
    data = spreadsheet.write_xlsx(template_rows(n))
    write_s = time.perf_counter() - start
    job, import_s = await _run_import(client, data)
    assert job["status"] == "imported" and job["created"] == n, {k: job[k] for k in job if k != "errors"}
    # Re-importing the same file changes nothing (idempotency), at its own rate.
    again, reimport_s = await _run_import(client, data)
    assert again["status"] == "imported" and again["unchanged"] == n, {
        k: again[k] for k in again if k != "errors"
    }
    return {
        "import_rows_per_s": round(n / import_s, 1),
        "import_rows": n,
        "import_file_mb": round(len(data) / 2**20, 1),
        "import_s": round(import_s, 1),
        "reimport_unchanged_rows_per_s": round(n / reimport_s, 1),
        "import_file_write_s": round(write_s, 1),
    }


async def publish_latency(
    client: httpx.AsyncClient, gateway: str, count: int = 20, timeout: float = 30.0
) -> dict[str, Any]:
    """Publish ``count`` imported drafts one by one; ms until each is found by the portal's search."""
    url = f"{gateway}/api/v1/catalogue/search"
    latencies: list[float] = []
    async with aiohttp.ClientSession() as http:
        for item_code, entry, content in template_rows(count):
            owner = CENTRE.model_copy(
                update={"org_code": content["implementing_org"]["code"], "roles": frozenset({"acceptor"})}
            )
            base = f"/catalogue/items/{item_code}/versions/1"
            r = await client.post(f"{base}/submit", headers=bearer(owner))
            assert r.status_code == 200, r.text
            r = await client.post(f"{base}/approve", headers=bearer(CENTRE))
            assert r.status_code == 200, r.text
            params = {
                "q": entry["name"],
                "region": content["region_code"],
                "region_scope": "self",
                "limit": 50,
            }
            start = time.perf_counter()
            r = await client.post(f"{base}/publish", headers=bearer(CENTRE))
            assert r.status_code == 200, r.text
            while True:
                async with http.get(url, params=params) as g:
                    body = await g.json()
                if any(i["item_code"] == item_code for i in body["items"]):
                    break
                if time.perf_counter() - start > timeout:
                    raise RuntimeError(f"{item_code} not searchable after {timeout} s")
                await asyncio.sleep(0.005)
            latencies.append((time.perf_counter() - start) * 1000)
    ordered = sorted(latencies)
    return {
        "publish_to_searchable_ms": round(ordered[len(ordered) // 2], 1),
        "publish_to_searchable_p95_ms": round(
            ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 1
        ),
        "publishes_measured": len(latencies),
    }


async def standalone(n: int) -> dict[str, Any]:
    """The import rate alone: a fresh database with management's schema, the app and its worker."""
    from yiwang_common.migrations import upgrade_database
    from yiwang_common.testing import create_database, drop_database

    migrations = Path(__file__).resolve().parents[1] / "services/management/src/yiwang_management/migrations"
    url = await create_database("yiwang_bench_import")
    nats_url = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")
    try:
        await upgrade_database(DatabaseSettings(url=url, schema_name="management"), migrations)
        async with management(url, nats_url) as client:
            return await import_rate(client, n)
    finally:
        await drop_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(description="catalogue import rate (management only)")
    parser.add_argument("--n", type=int, default=100_000, help="rows of the xlsx")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(standalone(args.n)), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
