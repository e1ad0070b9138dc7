"""Ceilings measured in the same run as the end-to-end benchmark, on the same machine:
raw JetStream publish+ack, raw PostgreSQL transactions, bare FastAPI requests.

They say what the box can do with no yiwang code in the way, so the end-to-end numbers can be
read as ratios rather than absolutes.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import aiohttp
import asyncpg
import nats

from scripts.stack import free_port, port_open


async def jetstream(nats_url: str, n: int = 20000, n_sync: int = 3000) -> dict[str, float]:
    """Publish to a file-backed R1 stream: pipelined (publish_async) and one-at-a-time."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    name = "BENCH_CEILING"
    try:
        await js.delete_stream(name)
    except Exception:
        pass
    await js.add_stream(name=name, subjects=["bench.ceiling.>"])
    payload = b"x" * 700  # about the size of one of our envelopes
    try:
        start = time.perf_counter()
        futures = [
            await js.publish_async("bench.ceiling.a", payload, headers={"Nats-Msg-Id": uuid.uuid4().hex})
            for _ in range(n)
        ]
        await asyncio.gather(*futures)
        async_rate = n / (time.perf_counter() - start)
        start = time.perf_counter()
        for _ in range(n_sync):
            await js.publish("bench.ceiling.s", payload, headers={"Nats-Msg-Id": uuid.uuid4().hex})
        sync_rate = n_sync / (time.perf_counter() - start)
    finally:
        await js.delete_stream(name)
        await nc.close()
    return {
        "jetstream_publish_ack_async_per_s": round(async_rate, 1),
        "jetstream_publish_ack_sync_per_s": round(sync_rate, 1),
    }


async def postgres(dsn: str, n: int = 8000, concurrency: int = 4) -> dict[str, float]:
    """Committed transactions of the shape our write path has: one state row + one outbox row."""
    setup = await asyncpg.connect(dsn)
    await setup.execute(
        "DROP TABLE IF EXISTS bench_app, bench_outbox;"
        "CREATE TABLE bench_app (id uuid PRIMARY KEY, status text, payload jsonb, created_at timestamptz DEFAULT now());"
        "CREATE TABLE bench_outbox (seq bigserial PRIMARY KEY, event_id uuid UNIQUE, subject text, payload bytea, published_at timestamptz)"
    )
    await setup.close()
    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
    assert pool is not None
    per_worker = n // concurrency

    async def worker() -> None:
        async with pool.acquire() as conn:
            for _ in range(per_worker):
                async with conn.transaction():
                    await conn.execute(
                        "INSERT INTO bench_app (id, status, payload) VALUES ($1, 'submitted', '{\"a\": 1}')",
                        uuid.uuid4(),
                    )
                    await conn.execute(
                        "INSERT INTO bench_outbox (event_id, subject, payload) VALUES ($1, 'x.y', $2)",
                        uuid.uuid4(),
                        b"x" * 700,
                    )

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    rate = per_worker * concurrency / (time.perf_counter() - start)
    async with pool.acquire() as conn:
        await conn.execute("DROP TABLE bench_app, bench_outbox")
    await pool.close()
    return {"postgres_tx_per_s": round(rate, 1)}


BARE_APP = textwrap.dedent(
    """
    from fastapi import FastAPI
    from pydantic import BaseModel

    app = FastAPI()

    class Application(BaseModel):
        item_code: str
        form: dict
        materials: list[dict]

    @app.post("/applications", status_code=202)
    async def submit(body: Application) -> dict:
        return {"item_code": body.item_code, "status": "submitted"}
    """
)


#: The bare app served exactly as ``yiwang-<service> serve`` serves a service (yiwang_common.cli).
AS_SERVICES = textwrap.dedent(
    """
    import sys

    import uvicorn

    from bare_app import app
    from yiwang_common.http.limits import ProblemHttpToolsProtocol

    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        log_config=None,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http=ProblemHttpToolsProtocol,
        proxy_headers=False,
    )
    """
)


async def fastapi_bare(
    n: int = 8000, concurrency: int = 32, *, as_services: bool = False
) -> dict[str, float]:
    """Requests/s of a bare FastAPI POST with Pydantic validation, uvicorn + httptools, 1 process.

    ``as_services`` serves it with the very uvicorn settings of the services' ``serve`` (their
    httptools protocol, no proxy headers), so a service's rate can be read against it.
    """
    port = free_port()
    app_dir = Path("var/bench")
    app_dir.mkdir(parents=True, exist_ok=True)
    (app_dir / "bare_app.py").write_text(BARE_APP)
    if as_services:
        (app_dir / "bare_server.py").write_text(AS_SERVICES)
        command = [sys.executable, "bare_server.py", str(port)]
    else:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "bare_app:app",
            "--port",
            str(port),
            "--http",
            "httptools",
            "--loop",
            "uvloop",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
    proc = subprocess.Popen(command, cwd=app_dir)
    try:
        deadline = time.monotonic() + 20
        while not port_open(port):
            if time.monotonic() > deadline:
                raise RuntimeError("bare FastAPI did not start")
            await asyncio.sleep(0.05)
        body = {
            "item_code": "X",
            "form": {"a": 1},
            "materials": [{"material_code": "M01", "sha256": "0" * 64}],
        }
        url = f"http://127.0.0.1:{port}/applications"
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
            per_worker = n // concurrency

            async def worker() -> None:
                for _ in range(per_worker):
                    async with http.post(url, json=body) as r:
                        assert r.status == 202
                        await r.read()

            await asyncio.gather(*(worker() for _ in range(concurrency)))  # warm-up round
            start = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            rate = per_worker * concurrency / (time.perf_counter() - start)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return {"fastapi_req_per_s": round(rate, 1)}
