"""``make bench-identity``: sign-ins per core at the documented argon2id cost, next to the raw argon2id
hash rate, token verifications per core, and the bare-FastAPI ceiling, all in the same run.

1. argon2id: ``argon2-cffi`` hashes at exactly the parameters of ``yiwang_gateway.account.passwords``
   (m=19 MiB, t=2, p=1), timed by the process's CPU clock (per core, whatever else the box runs).
2. Token verification: ``yiwang_common.auth.TokenVerifier`` on distinct Ed25519 tokens (each a
   cache miss: signature, claims, principal), CPU clock; the cached rate beside it.
3. Sign-ins: the real gateway (``yiwang-gateway serve``: uvicorn, httptools, uvloop, one process)
   on a fresh migrated database with ``--accounts`` accounts; ``--logins`` password grants over
   HTTP from ``--concurrency`` clients. ``logins_per_s_per_core`` divides the sign-ins by the CPU
   seconds the gateway process spent on them (argon2id in its thread pool, the session and
   refresh-token rows, signing), so it reads per core however busy the machine is; the wall-clock
   rate is beside it.
4. The bare-FastAPI ceiling (bench/ceilings.py).

``case_list_1m_p95_ms`` (a staff member's authorised case list at 1,000,000 cases) is measured
by ``bench/case_list.py`` (``measure()``, COPY-loading the cases into management), in the same run.

Writes ``bench/results/identity.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

from bench import ceilings
from bench.search import cpu_seconds, percentile
from scripts.stack import ROOT, free_port
from yiwang_common.auth import Principal, TokenIssuer, TokenVerifier
from yiwang_common.config import DatabaseSettings
from yiwang_common.db import session_scope
from yiwang_common.db.engine import create_engine, create_sessionmaker
from yiwang_common.migrations import upgrade_database
from yiwang_common.testing import create_database, drop_database, ephemeral_auth
from yiwang_gateway.account import passwords
from yiwang_gateway.account.models import Account
from yiwang_gateway.models import load_all_models

RESULTS = ROOT / "bench" / "results"
MIGRATIONS = ROOT / "services" / "gateway" / "src" / "yiwang_gateway" / "migrations"
PASSWORD = "bench-Passw0rd"


def argon2id_rate(seconds: float = 3.0) -> dict[str, Any]:
    """Raw argon2id hashes per CPU second at the documented cost."""
    count, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        passwords.HASHER.hash(PASSWORD)
        count += 1
    cpu = time.process_time() - start
    return {
        "argon2id_hashes_per_s_per_core": round(count / cpu, 1),
        "argon2id_params": {
            "memory_kib": passwords.MEMORY_COST_KIB,
            "time_cost": passwords.TIME_COST,
            "parallelism": passwords.PARALLELISM,
        },
    }


def verification_rate(n: int = 5000) -> dict[str, float]:
    """TokenVerifier on n distinct tokens (every one a cache miss), then n cached ones."""
    auth = ephemeral_auth()
    issuer = TokenIssuer(auth)
    principal = Principal(
        sub=str(uuid.uuid4()), name="张三", kind="natural_person", roles=frozenset({"applicant"})
    )
    tokens = [issuer.issue(principal.model_copy(update={"sub": str(uuid.uuid4())})) for _ in range(n)]
    verifier = TokenVerifier(auth)
    start = time.process_time()
    for token in tokens:
        verifier.verify(token)
    cold = n / (time.process_time() - start)
    start = time.process_time()
    for token in tokens:
        verifier.verify(token)
    warm = n / (time.process_time() - start)
    return {
        "token_verifications_per_s_per_core": round(cold, 1),
        "token_verifications_cached_per_s_per_core": round(warm, 1),
    }


async def seed_accounts(url: str, count: int) -> list[str]:
    """``count`` natural persons with the benchmark password (one argon2id hash shared by all),
    through the gateway's own model so that every column gets its default."""
    stored = passwords.hash_password_sync(PASSWORD)
    names = [f"bench{i:05d}" for i in range(count)]
    engine = create_engine(DatabaseSettings(url=url, schema_name="gateway"))
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            session.add_all(
                Account(
                    username=name,
                    password_hash=stored,
                    kind="natural_person",
                    name="压测用户",
                    roles=["applicant"],
                )
                for name in names
            )
    finally:
        await engine.dispose()
    return names


async def start_gateway(url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log_path = ROOT / "var" / "bench" / "gateway-identity.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(
        {
            "DATABASE_URL": url,
            "GATEWAY_PORT": str(port),
            "GATEWAY_HOST": "127.0.0.1",
            # Sign-in needs no bus; without workers the process spends its CPU on sign-ins only.
            "GATEWAY_RUN_WORKERS": "false",
            "YIWANG_VAR_DIR": str(ROOT / "var" / "bench"),
            "GATEWAY_LOG_LEVEL": "WARNING",
        }
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
    deadline = time.monotonic() + 300
    async with aiohttp.ClientSession() as http:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the gateway exited; see {log_path}")
            try:
                async with http.get(f"{base}/.well-known/jwks.json") as r:
                    if r.status == 200:
                        return proc, base
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                proc.terminate()
                raise RuntimeError("the gateway did not come up")
            await asyncio.sleep(0.25)


async def sign_ins(base: str, names: list[str], logins: int, concurrency: int, pid: int) -> dict[str, Any]:
    """Password grants over HTTP; CPU of the gateway process per sign-in."""
    url = f"{base}/api/v1/auth/token"
    latencies: list[float] = []

    async def worker(http: aiohttp.ClientSession, w: int, count: int, record: bool) -> None:
        for i in range(count):
            form = {
                "grant_type": "password",
                "username": names[(w * count + i) % len(names)],
                "password": PASSWORD,
            }
            start = time.perf_counter()
            async with http.post(url, data=form) as r:
                body = await r.read()
                if r.status != 200:
                    raise RuntimeError(f"sign-in failed: {r.status} {body[:200]!r}")
            if record:
                latencies.append((time.perf_counter() - start) * 1000)

    per_worker = max(1, logins // concurrency)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
        await asyncio.gather(*(worker(http, w, 2, False) for w in range(concurrency)))  # warm-up
        cpu, start = cpu_seconds(pid), time.perf_counter()
        await asyncio.gather(*(worker(http, w, per_worker, True) for w in range(concurrency)))
        wall, used = time.perf_counter() - start, cpu_seconds(pid) - cpu
    done = per_worker * concurrency
    return {
        "logins_per_s_per_core": round(done / used, 1),
        "logins_per_s_wall": round(done / wall, 1),
        "login_p50_ms": round(percentile(latencies, 0.5), 1),
        "login_p95_ms": round(percentile(latencies, 0.95), 1),
        "logins_measured": done,
        "login_concurrency": concurrency,
    }


async def case_list(n: int) -> dict[str, Any]:
    """The staff case list at ``n`` cases (bench/case_list.py), its keys prefixed ``case_list_``."""
    from bench.case_list import measure

    found = await measure(n)
    return {"case_list_1m_p95_ms": found["case_list_1m_p95_ms"]} | {
        k if k.startswith("case_list") else f"case_list_{k}": v
        for k, v in found.items()
        if k != "case_list_1m_p95_ms"
    }


async def run(accounts: int, logins: int, concurrency: int, case_list_n: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }
    result |= argon2id_rate()
    result |= verification_rate()
    load_all_models()
    url = await create_database("yiwang_bench_identity")
    proc: subprocess.Popen[bytes] | None = None
    try:
        await upgrade_database(DatabaseSettings(url=url, schema_name="gateway"), MIGRATIONS)
        names = await seed_accounts(url, accounts)
        proc, base = await start_gateway(url)
        result |= await sign_ins(base, names, logins, concurrency, proc.pid)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=15)
        await drop_database(url)
    result |= await case_list(case_list_n)
    result |= await ceilings.fastapi_bare()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--logins", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases for the staff case list")
    args = parser.parse_args()
    result = asyncio.run(run(args.accounts, args.logins, args.concurrency, args.cases))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "identity.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
