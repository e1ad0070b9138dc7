"""``make bench-search``: catalogue search at 100,000 items, over HTTP, next to the bare-FastAPI ceiling.

1. Generates the catalogue (bench/catalogue_gen.py) into the real gateway table of a fresh
   PostgreSQL database (migrated with the gateway's own migrations).
2. In process: builds the index from those items (time, RSS growth = index memory) and times
   one-document updates into the full index (the engine's share of publish → searchable).
3. Starts the real gateway (``yiwang-gateway serve``: uvicorn, httptools, uvloop, one process) on
   a free port; it builds its index from the table at start-up like in production.
4. Over HTTP: latency of one client in sequence (p50/p95, client-observed: an upper bound of the
   server-side time), throughput with 16 concurrent clients, the in-index time the server reports
   (``took_ms``), and the top-3 hit rate of the quality queries against the 100k catalogue.
5. The bare-FastAPI ceiling (bench/ceilings.py) right before and right after the cold
   throughput, against the same client (aiohttp), concurrency and uvicorn settings as the gateway
   (its httptools protocol, uvloop, no access log, no proxy headers): ``fastapi_req_per_s`` is the
   mean of the two, and both ratios are taken against it. ``search_qps`` is cold — the answer
   cache off, every request answered by the index; ``search_qps_mixed_cached`` is the cache on.

6. Management (bench/catalogue.py), on the same database and the real NATS (``NATS_URL``; its
   ``YIWANG_*`` streams are reset first, as ``make bench`` does): the import rate of an N-row
   template xlsx through its import endpoint, and publish → searchable over the bus into the
   running gateway (p50 of 20 publishes).

Writes ``bench/results/search.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import orjson
from sqlalchemy.engine import make_url

from bench import catalogue, ceilings
from bench.catalogue_gen import generate, regions
from scripts.stack import ROOT, free_port
from yiwang_common.contracts.management import ItemPublished
from yiwang_common.migrations import upgrade_database
from yiwang_common.testing import create_database, drop_database, reset_streams
from yiwang_gateway.config import Settings
from yiwang_gateway.search.demo import demo_items
from yiwang_gateway.search.documents import document_from_event
from yiwang_gateway.search.quality import evaluate, load_cases
from yiwang_gateway.search.service import search_service

RESULTS = ROOT / "bench" / "results"
QUERIES = ROOT / "services" / "gateway" / "tests" / "search_data" / "quality_queries.tsv"
MIGRATIONS = ROOT / "services" / "gateway" / "src" / "yiwang_gateway" / "migrations"
MANAGEMENT_MIGRATIONS = ROOT / "services" / "management" / "src" / "yiwang_management" / "migrations"
COUNTIES = ["530415", "530102", "511503", "450214", "520307"]
COLUMNS = (
    "item_code, basic_code, version, name, item_type, org, region_code, service_object, scope, legal_basis, "
    "conditions, materials, limits, form_schema, guide, published_at, updated_at"
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))]


def rss_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _row(d: ItemPublished) -> tuple[Any, ...]:
    j = orjson.dumps
    return (
        d.item_code,
        d.basic_code,
        d.version,
        d.name,
        d.item_type,
        j(d.implementing_org.model_dump()).decode(),
        d.region_code,
        j(d.service_object).decode(),
        d.scope,
        j(d.legal_basis).decode(),
        j(d.conditions).decode(),
        j([m.model_dump(mode="json") for m in d.materials]).decode(),
        j(
            {
                "statutory_limit_days": d.statutory_limit_days,
                "promised_limit_days": d.promised_limit_days,
                "case_type": d.case_type,
                "fee": d.fee,
            }
        ).decode(),
        j(d.form_schema).decode(),
        j(d.guide).decode(),
        d.published_at,
        d.published_at,
    )


async def load_table(url: str, items: list[ItemPublished]) -> float:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    placeholders = ", ".join(
        f"${k}::jsonb" if k in (6, 8, 10, 11, 12, 13, 14, 15) else f"${k}" for k in range(1, 18)
    )
    start = time.perf_counter()
    try:
        await conn.executemany(
            f"INSERT INTO gateway.catalogue_item ({COLUMNS}) VALUES ({placeholders})",
            [_row(d) for d in items],
        )
    finally:
        await conn.close()
    return time.perf_counter() - start


def in_process(items: list[ItemPublished], updates: int = 1000) -> dict[str, Any]:
    """Index build time and memory, and one-document update latency into the full index."""
    index = search_service.new_index()
    docs = [document_from_event(d) for d in items]
    gc.collect()
    before = rss_bytes()
    start = time.perf_counter()
    for k in range(0, len(docs), 2000):  # as the gateway's start-up reads the table
        index.add_many(docs[k : k + 2000])
    build_s = time.perf_counter() - start
    del docs
    gc.collect()
    gc.freeze()
    grown = rss_bytes() - before
    fresh = [d for k, d in enumerate(generate(len(items) + updates)) if k >= len(items)]
    lat = []
    for d in fresh:
        doc = document_from_event(d.model_copy(update={"item_code": d.item_code + "U"}))
        t = time.perf_counter()
        index.add(doc)
        lat.append((time.perf_counter() - t) * 1000)
    demo = search_service.new_index()
    demo.add_many(document_from_event(d) for d in demo_items())
    return {
        "index_build_s": round(build_s, 2),
        "index_memory_mb": round(grown / 2**20, 1),
        "index_postings_mb": round(index.memory_bytes() / 2**20, 1),
        "index_update_p50_ms": round(percentile(lat, 0.5), 3),
        "index_update_p95_ms": round(percentile(lat, 0.95), 3),
        "hit_rate_top3_demo": round(evaluate(demo, load_cases(QUERIES)).hit_rate, 4),
    }


def query_mix() -> list[dict[str, Any]]:
    """The quality queries, alone and with the filters a portal page adds."""
    rnd = random.Random(7)
    regions = ["530428", "530400", "530000", "511503", "450100"]
    out: list[dict[str, Any]] = []
    for case in load_cases(QUERIES):
        out.append({"q": case.query})
        out.append({"q": case.query, "region": rnd.choice(regions)})
        out.append(
            {
                "q": case.query,
                "object": rnd.choice(["自然人", "法人"]),
                "level": rnd.choice(["city", "county"]),
            }
        )
    return out


def mixed_mix(count: int) -> list[dict[str, Any]]:
    """A portal's repetition: half the requests are the popular queries (Zipf over the quality mix,
    the first ones most often), half a long tail of query × any county × service object, nearly all
    distinct, so the answer cache sees both kinds."""
    rnd = random.Random(11)
    popular = query_mix()
    weights = [1 / (k + 1) for k in range(len(popular))]
    counties = [code for code, _ in regions() if not code.endswith("00")]
    cases = load_cases(QUERIES)
    out: list[dict[str, Any]] = []
    for _ in range(count):
        if rnd.random() < 0.5:
            out.append(rnd.choices(popular, weights)[0])
        else:
            tail = {"q": rnd.choice(cases).query, "region": rnd.choice(counties)}
            out.append(tail | {"object": rnd.choice(["自然人", "法人"])} if rnd.random() < 0.5 else tail)
    return out


async def mixed_throughput(base: str, requests: int, concurrency: int) -> dict[str, Any]:
    """Requests/s of the mixed mix with the answer cache on (the popular half mostly hits)."""
    mix = mixed_mix(requests)
    url = f"{base}/api/v1/catalogue/search"
    per_worker = requests // concurrency
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:

        async def worker(w: int) -> None:
            for k in range(per_worker):
                async with http.get(url, params=mix[w * per_worker + k]) as r:
                    assert r.status == 200
                    await r.read()

        start = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(concurrency)))
        return {"search_qps_mixed_cached": round(per_worker * concurrency / (time.perf_counter() - start), 1)}


async def wait_for(url: str, proc: subprocess.Popen[bytes], timeout: float = 600) -> float:
    start = time.monotonic()
    async with aiohttp.ClientSession() as http:
        while True:
            if proc.poll() is not None:
                raise RuntimeError("the gateway exited; see var/bench/gateway-search.log")
            try:
                async with http.get(url, params={"q": "x"}) as r:
                    if r.status == 200:
                        return time.monotonic() - start
            except aiohttp.ClientError:
                pass
            if time.monotonic() - start > timeout:
                raise RuntimeError("the gateway did not come up")
            await asyncio.sleep(0.25)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def over_http(base: str, requests: int, concurrency: int, pid: int) -> dict[str, Any]:
    mix = query_mix()
    url = f"{base}/api/v1/catalogue/search"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
        for params in mix:  # warm-up: every query once
            async with http.get(url, params=params) as r:
                assert r.status == 200, await r.text()
                await r.read()
        latencies: list[float] = []
        took: list[float] = []
        for k in range(requests):
            t = time.perf_counter()
            async with http.get(url, params=mix[k % len(mix)]) as r:
                body = await r.json()
            latencies.append((time.perf_counter() - t) * 1000)
            took.append(float(body["took_ms"]))
        per_worker = requests * 2 // concurrency

        async def worker(offset: int) -> None:
            for k in range(per_worker):
                async with http.get(url, params=mix[(offset + k) % len(mix)]) as r:
                    assert r.status == 200
                    await r.read()

        start, cpu = time.perf_counter(), cpu_seconds(pid)
        await asyncio.gather(*(worker(w * 7) for w in range(concurrency)))
        qps = per_worker * concurrency / (time.perf_counter() - start)
        # The gateway's own CPU per request: what the server spends, whatever else shares the box.
        server_cpu_ms = (cpu_seconds(pid) - cpu) * 1000 / (per_worker * concurrency)
        hits = 0
        cases = load_cases(QUERIES)
        for k, case in enumerate(cases):
            # As the portal asks it: for the citizen's county (and the city and province above it),
            # where the same 目录 item exists up to three times, so names are counted once.
            region = COUNTIES[k % len(COUNTIES)]
            async with http.get(url, params={"q": case.query, "region": region, "limit": 10}) as r:
                names = list(dict.fromkeys(i["name"] for i in (await r.json())["items"]))[:3]
            hits += all(e in names for e in case.expected)
    return {
        "search_p50_ms": round(percentile(latencies, 0.5), 2),
        "search_p95_ms": round(percentile(latencies, 0.95), 2),
        "search_p99_ms": round(percentile(latencies, 0.99), 2),
        "engine_p50_ms": round(percentile(took, 0.5), 3),
        "engine_p95_ms": round(percentile(took, 0.95), 3),
        "search_qps": round(qps, 1),
        "server_cpu_ms_per_request": round(server_cpu_ms, 3),
        "hit_rate_top3": round(hits / len(cases), 4),
        "queries_measured": requests,
        "concurrency": concurrency,
    }


async def run(n: int, requests: int, concurrency: int, import_n: int) -> dict[str, Any]:
    url = await create_database("yiwang_bench_search")
    nats_url = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")
    proc: subprocess.Popen[bytes] | None = None
    try:
        await upgrade_database(Settings(database={"url": url, "schema_name": "gateway"}).database, MIGRATIONS)
        await upgrade_database(
            Settings(database={"url": url, "schema_name": "management"}).database, MANAGEMENT_MIGRATIONS
        )
        await reset_streams(nats_url)
        items = list(generate(n))
        load_s = await load_table(url, items)
        local = in_process(items)
        del items
        async with catalogue.management(url, nats_url) as mgmt:
            imported = await catalogue.import_rate(mgmt, import_n)
            gc.collect()
            # Cold: the answer cache off, so every request is answered by the index (search_qps).
            proc, base, startup_s, gateway_rss_mb = await start_gateway(url, nats_url, cache_size=0)
            # The ceiling right before and right after, with the same client, concurrency and
            # uvicorn settings: the box is shared, and its load moves within minutes.
            before = await ceilings.fastapi_bare(concurrency=concurrency, as_services=True)
            http = await over_http(base, requests, concurrency, proc.pid)
            after = await ceilings.fastapi_bare(concurrency=concurrency, as_services=True)
            proc.terminate()
            proc.wait(timeout=20)
            # Mixed: the cache on (as deployed), a mix with a portal's repetition; then publications.
            proc, base, _, _ = await start_gateway(url, nats_url, cache_size=None)
            http |= await mixed_throughput(base, requests * 2, concurrency)
            published = await catalogue.publish_latency(mgmt, base)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
        await drop_database(url)
    ceiling = round((before["fastapi_req_per_s"] + after["fastapi_req_per_s"]) / 2, 1)
    return {
        "items": n,
        **http,
        "fastapi_req_per_s": ceiling,
        "fastapi_req_per_s_before": before["fastapi_req_per_s"],
        "fastapi_req_per_s_after": after["fastapi_req_per_s"],
        "search_vs_fastapi": round(http["search_qps"] / ceiling, 3),
        "search_mixed_cached_vs_fastapi": round(http["search_qps_mixed_cached"] / ceiling, 3),
        **imported,
        **published,
        **local,
        "gateway_startup_with_index_s": round(startup_s, 1),
        "gateway_rss_mb": gateway_rss_mb,
        "table_load_rows_per_s": round(n / load_s, 1),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }


async def start_gateway(
    url: str, nats_url: str, *, cache_size: int | None
) -> tuple[subprocess.Popen[bytes], str, float, float]:
    """The real gateway with its consumers on, building its index from the table at start-up;
    ``cache_size`` None leaves its answer cache as configured by default."""
    port = free_port()
    log_path = ROOT / "var" / "bench" / "gateway-search.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(
        {
            "DATABASE_URL": url,
            "NATS_URL": nats_url,
            "GATEWAY_PORT": str(port),
            "GATEWAY_HOST": "127.0.0.1",
            "GATEWAY_RUN_WORKERS": "true",
            "YIWANG_VAR_DIR": str(ROOT / "var" / "bench"),
            "GATEWAY_LOG_LEVEL": "WARNING",
        }
        | ({} if cache_size is None else {"GATEWAY_SEARCH_CACHE_SIZE": str(cache_size)})
    )
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "yiwang-gateway"), "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        startup_s = await wait_for(f"{base}/api/v1/catalogue/search", proc)
    except BaseException:
        proc.terminate()
        raise
    status = Path(f"/proc/{proc.pid}/status").read_text()
    return proc, base, startup_s, round(int(status.split("VmRSS:")[1].split()[0]) / 1024, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--import-n", type=int, default=None, help="rows of the import xlsx (default: --n)")
    args = parser.parse_args()
    result = asyncio.run(run(args.n, args.requests, args.concurrency, args.import_n or args.n))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "search.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
