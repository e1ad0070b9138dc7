"""The catalogue's share of ``make bench-search``: import rate and publish → searchable, through management.

- Import: an N-row xlsx in management's template (bench/catalogue_gen.py ``template_rows``, both
  sheets) goes through management's real ``POST /catalogue/imports`` (the job endpoint, in
  process over ASGI, on the bench's PostgreSQL) as the centre; every row is validated and
  becomes a draft. Rows/s is rows over the request's wall time (reading, validation, the
  workflow's checks, the inserts, the job row). Writing the file is not counted.
- Publish → searchable: the same management app, with its outbox relay on the real NATS,
  submits, approves and publishes imported drafts one at a time; the clock runs from the publish
  request to the moment the running gateway's ``GET /api/v1/catalogue/search`` returns the item
  (polled every 5 ms): outbox → JetStream → the gateway's consumer → its table → its index.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
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


async def import_rate(client: httpx.AsyncClient, n: int) -> dict[str, Any]:
    start = time.perf_counter()
    data = spreadsheet.write_xlsx(template_rows(n))
    write_s = time.perf_counter() - start
    start = time.perf_counter()
    r = await client.post(
        "/catalogue/imports", content=data, params={"filename": "实施清单.xlsx"}, headers=bearer(CENTRE)
    )
    import_s = time.perf_counter() - start
    assert r.status_code == 201, r.text[:2000]
    job = r.json()
    assert job["status"] == "imported" and job["created"] == n, {k: job[k] for k in job if k != "errors"}
    # Re-importing the same file changes nothing (idempotency), at its own rate.
    start = time.perf_counter()
    again = await client.post(
        "/catalogue/imports", content=data, params={"filename": "实施清单.xlsx"}, headers=bearer(CENTRE)
    )
    reimport_s = time.perf_counter() - start
    assert again.status_code == 201 and again.json()["unchanged"] == n, again.text[:2000]
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
