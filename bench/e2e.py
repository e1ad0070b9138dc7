"""``make bench``: N applications through the whole flow on PostgreSQL + NATS JetStream.

The four services run as real processes (as in production, one process each). A driver plays
applicants and staff through the public REST APIs only: applicants submit (materials are
uploaded once per applicant and referenced, as content-addressed storage allows), window
staff accept, reviewers review, approvers approve, and the applicant's result is confirmed on
the gateway. Latency is submit → the applicant sees 已办结 on the gateway, with at most
``--window`` applications in flight. The ceilings are measured in the same run.

The database is ``DATABASE_URL``, else the machine's PostgreSQL (``TEST_DATABASE_URL`` or
127.0.0.1:5432, its Unix socket when there is one); ``--db embedded`` (``BENCH_DB=embedded``)
starts the embedded PostgreSQL the way ``make dev`` does instead, from the ``pgserver``
binaries with its data under ``var/bench/pg``, and measures the ceilings against it too.

Writes ``bench/results/e2e.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import nats
import orjson

from bench import ceilings
from scripts.flow import CONSTRUCTION_FORM, CONSTRUCTION_PERMIT, DEMO_PASSWORD, pdf_bytes
from scripts.pg import EmbeddedPostgres
from scripts.stack import ROOT, SERVICES, Stack, free_port
from yiwang_common.testing import admin_url, create_database, drop_database, reset_streams

RESULTS = ROOT / "bench" / "results"
LOCAL_SOCKET = "/var/run/postgresql/.s.PGSQL.5432"
LOCAL_SOCKET_URL = "postgresql://postgres@/postgres?host=/var/run/postgresql"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def settle(procs: dict[str, Any], timeout: float = 60.0) -> None:
    """Wait until every started process is idle (under 10 % of a core over half a second).

    The workers are started after the APIs answer and are still importing when the flow would
    begin; their start-up (about 1.5 s of CPU each) is not work done per application.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = {name: process_cpu_seconds(proc.pid) for name, proc in procs.items()}
        await asyncio.sleep(0.5)
        busy = [name for name, proc in procs.items() if process_cpu_seconds(proc.pid) - before[name] > 0.05]
        if not busy:
            return
    print(f"still busy after {timeout:.0f} s: {', '.join(busy)}; measuring anyway", flush=True)


def cpu_seconds_by_program() -> dict[str, float]:
    """CPU time (user + system) used so far by every process on the machine, summed per program."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, float] = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        name = (
            Path(cmd[0].decode(errors="replace")).name if cmd and cmd[0] else stat.split("(")[1].split(")")[0]
        )
        if name.startswith("python") and len(cmd) > 2:
            # python …/bin/yiwang-gateway serve → yiwang-gateway; python -m bench.e2e → bench.e2e
            arg = cmd[2] if cmd[1] == b"-m" else cmd[1]
            name = Path(arg.decode(errors="replace")).name
        if "postgres" in name or name.startswith("postgres"):
            name = "postgres"
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Driver:
    def __init__(self, stack: Stack, n: int, window: int) -> None:
        self.stack = stack
        self.n = n
        self.window = asyncio.Semaphore(window)
        self.submitted_at: dict[str, float] = {}
        self.result_at: dict[str, float] = {}
        self.owner: dict[str, dict[str, str]] = {}
        self.done = asyncio.Event()
        self.conflicts = 0
        self.stage_at: dict[str, dict[str, float]] = {}
        self.http: aiohttp.ClientSession

    def url(self, service: str, path: str) -> str:
        return f"{self.stack.url(service)}/api/v1{path}"

    async def call(
        self, method: str, service: str, path: str, auth: dict[str, str] | None = None, **kw: Any
    ) -> tuple[int, Any]:
        async with self.http.request(method, self.url(service, path), headers=auth, **kw) as r:
            body = await r.read()
            return r.status, (orjson.loads(body) if body else None)

    async def published_item(self, item_code: str, timeout: float = 30.0) -> dict[str, Any]:
        """The item as the portal shows it, once management's publication has reached the portal.

        The demo items are published as the stack starts; the portal's catalogue is a projection
        of those events, so right after start-up it may not have them yet.
        """
        deadline = time.monotonic() + timeout
        while True:
            status, body = await self.call("GET", "gateway", f"/items/{item_code}")
            if status == 200:
                return dict(body)
            assert time.monotonic() < deadline, f"item {item_code} not in the portal catalogue: {body}"
            await asyncio.sleep(0.1)

    async def login(self, username: str) -> dict[str, str]:
        status, body = await self.call(
            "POST", "gateway", "/auth/token", json={"username": username, "password": DEMO_PASSWORD}
        )
        assert status == 200, body
        return {"Authorization": f"Bearer {body['access_token']}"}

    async def upload_all(
        self, auth: dict[str, str], item: dict[str, Any], label: str
    ) -> list[dict[str, str]]:
        refs = []
        for m in item["materials"]:
            form = aiohttp.FormData()
            form.add_field(
                "file",
                pdf_bytes(f"{label}-{m['code']}"),
                filename=f"{m['code']}.pdf",
                content_type="application/pdf",
            )
            status, body = await self.call("POST", "gateway", "/materials", auth, data=form)
            assert status in (200, 201), body
            refs.append({"material_code": m["code"], "sha256": body["sha256"]})
        return refs

    def stalled(self) -> str:
        """Where the unfinished applications stopped: the last event each reached, counted."""
        last: dict[str, int] = {}
        for app_id in self.submitted_at:
            if app_id in self.result_at:
                continue
            seen = self.stage_at.get(app_id, {})
            stage = max(seen, key=seen.__getitem__) if seen else "submit_request"
            last[stage] = last.get(stage, 0) + 1
        done = len(self.result_at)
        return f"{done}/{self.n} seen completed on the portal; the others last reached {last}"

    async def submitter(self, applicants: list[tuple[dict[str, str], list[dict[str, str]]]]) -> None:
        async def one(i: int) -> None:
            auth, refs = applicants[i % len(applicants)]
            body = {"item_code": CONSTRUCTION_PERMIT, "form": CONSTRUCTION_FORM, "materials": refs}
            headers = auth | {"Idempotency-Key": uuid.uuid4().hex}
            t0 = time.perf_counter()
            status, resp = await self.call("POST", "gateway", "/applications", headers, json=body)
            assert status == 202, resp
            self.submitted_at[resp["application_id"]] = t0
            self.owner[resp["application_id"]] = auth

        tasks = []
        for i in range(self.n):
            await self.window.acquire()
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)

    async def staff_loop(
        self, service: str, list_path: str, params: dict[str, Any], auth: dict[str, str], act: Any
    ) -> None:
        """Work a staff queue like a person at a desk: take what is listed, finish it, look again."""
        sem = asyncio.Semaphore(8)

        async def handle(entry: dict[str, Any]) -> None:
            async with sem:
                if await act(entry) == 409:
                    self.conflicts += 1

        while not self.done.is_set():
            status, body = await self.call("GET", service, list_path, auth, params=params)
            assert status == 200, body
            if not body["items"]:
                await asyncio.sleep(0.1)
                continue
            await asyncio.gather(*(handle(entry) for entry in body["items"]))

    async def watch_results(self, nats_url: str) -> None:
        nc = await nats.connect(nats_url)
        queue: asyncio.Queue[str] = asyncio.Queue()

        async def on_event(msg: Any) -> None:
            data = orjson.loads(msg.data)["data"]
            app_id = data.get("application_id")
            if app_id is None:
                return
            self.stage_at.setdefault(app_id, {}).setdefault(msg.subject.split(".")[3], time.perf_counter())
            if msg.subject == "yiwang.management.case.completed.v1":
                queue.put_nowait(app_id)

        await nc.subscribe("yiwang.gateway.>", cb=on_event)
        await nc.subscribe("yiwang.management.case.>", cb=on_event)
        await nc.subscribe("yiwang.business.>", cb=on_event)

        pending: set[str] = set()

        async def poll_gateway() -> None:
            # What the applicant sees: their list of completed applications on the portal. One list
            # call per applicant every 100 ms, rather than one call per application, so that the
            # driver measures the suite instead of loading it.
            while not self.done.is_set():
                waiting = {a for a in pending if a in self.owner}
                for auth in {tuple(self.owner[a].items()) for a in waiting}:
                    params = {"status": "completed", "limit": 100}
                    status, body = await self.call(
                        "GET", "gateway", "/applications", dict(auth), params=params
                    )
                    assert status == 200, body
                    now = time.perf_counter()
                    for entry in body["items"]:
                        app_id = str(entry["application_id"])
                        if app_id in pending:
                            pending.discard(app_id)
                            self.result_at[app_id] = now
                            self.window.release()
                if len(self.result_at) >= self.n:
                    self.done.set()
                await asyncio.sleep(0.1)

        poller = asyncio.create_task(poll_gateway())
        try:
            while not self.done.is_set():
                try:
                    pending.add(await asyncio.wait_for(queue.get(), timeout=0.5))
                except TimeoutError:
                    continue
        finally:
            poller.cancel()
            await nc.close()

    async def run(self, nats_url: str) -> dict[str, Any]:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=128)) as self.http:
            item = await self.published_item(CONSTRUCTION_PERMIT)
            applicants = []
            for username in ("zhangsan", "yjcj", "lisi"):
                auth = await self.login(username)
                applicants.append((auth, await self.upload_all(auth, item, f"bench-{username}")))
            acceptor = await self.login("chuangkou")
            reviewer = await self.login("shencha")
            approver = await self.login("juece")

            async def accept(entry: dict[str, Any]) -> int:
                return (
                    await self.call(
                        "POST", "management", f"/cases/{entry['case_no']}/accept", acceptor, json={}
                    )
                )[0]

            def complete(auth: dict[str, str], opinion: str) -> Any:
                async def act(entry: dict[str, Any]) -> int:
                    body = {"decision": "approve", "opinion": opinion}
                    return (
                        await self.call("POST", "business", f"/tasks/{entry['id']}/complete", auth, json=body)
                    )[0]

                return act

            watcher = asyncio.create_task(self.watch_results(nats_url))
            await asyncio.sleep(0.2)
            loops = [
                asyncio.create_task(
                    self.staff_loop(
                        "management",
                        "/cases",
                        {"status": "pending_acceptance", "limit": 50},
                        acceptor,
                        accept,
                    )
                ),
                asyncio.create_task(
                    self.staff_loop(
                        "business",
                        "/tasks",
                        {"status": "open", "limit": 50},
                        reviewer,
                        complete(reviewer, "符合条件"),
                    )
                ),
                asyncio.create_task(
                    self.staff_loop(
                        "business",
                        "/tasks",
                        {"status": "open", "limit": 50},
                        approver,
                        complete(approver, "准予许可"),
                    )
                ),
            ]
            rss: dict[str, float] = {}

            async def sample_memory() -> None:
                while not self.done.is_set():
                    for name, proc in self.stack.procs.items():
                        rss[name] = max(rss.get(name, 0.0), rss_mb(proc.pid))
                    await asyncio.sleep(0.5)

            sampler = asyncio.create_task(sample_memory())
            await settle(self.stack.procs)
            cpu_before = cpu_seconds_by_program()
            start = time.perf_counter()
            await self.submitter(applicants)
            try:
                await asyncio.wait_for(self.done.wait(), timeout=120 + self.n / 5)
            except TimeoutError:
                raise SystemExit(f"flow stalled: {self.stalled()}") from None
            elapsed = max(self.result_at.values()) - start
            cpu_after = cpu_seconds_by_program()
            cpu_ms = {
                name: round(1000 * (used - cpu_before.get(name, 0.0)) / self.n, 2)
                for name, used in cpu_after.items()
                if used - cpu_before.get(name, 0.0) > 0.05
            }
            for task in (*loops, watcher, sampler):
                task.cancel()
            await asyncio.gather(*loops, watcher, sampler, return_exceptions=True)
        latencies = [(self.result_at[a] - self.submitted_at[a]) * 1000 for a in self.result_at]
        stages = ["submitted", "registered", "accepted", "step_completed", "decided", "completed"]
        breakdown: dict[str, float] = {}
        previous = "submit_request"
        for stage in stages:
            deltas = [
                (times[stage] - (self.submitted_at[a] if previous == "submit_request" else times[previous]))
                * 1000
                for a, times in self.stage_at.items()
                if stage in times
                and (previous == "submit_request" and a in self.submitted_at or previous in times)
            ]
            if deltas:
                breakdown[f"{previous}→{stage}"] = round(statistics.median(deltas), 1)
            previous = stage
        breakdown["completed→seen_on_gateway"] = round(
            statistics.median(
                (self.result_at[a] - self.stage_at[a]["completed"]) * 1000
                for a in self.result_at
                if "completed" in self.stage_at.get(a, {})
            ),
            1,
        )
        return {
            "applications_per_s": round(self.n / elapsed, 1),
            "p50_ms": round(percentile(latencies, 0.50), 1),
            "p99_ms": round(percentile(latencies, 0.99), 1),
            "mean_ms": round(statistics.fmean(latencies), 1),
            "elapsed_s": round(elapsed, 2),
            "staff_conflicts_409": self.conflicts,
            "median_stage_ms": breakdown,
            "max_rss_mb": {k: round(v, 1) for k, v in rss.items()},
            "cpu_ms_per_application": dict(sorted(cpu_ms.items(), key=lambda kv: -kv[1])),
        }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    embedded: EmbeddedPostgres | None = None
    try:
        if args.db == "embedded":
            # Fresh each run, so that runs compare; as `make dev` starts it (TCP on loopback).
            shutil.rmtree(ROOT / "var" / "bench" / "pg", ignore_errors=True)
            embedded = EmbeddedPostgres(ROOT / "var" / "bench" / "pg", prefer="pip")
            os.environ["TEST_DATABASE_URL"] = await asyncio.to_thread(embedded.start)
            os.environ.pop("DATABASE_URL", None)
        return await _run(args, embedded)
    finally:
        if embedded is not None:
            embedded.stop()


async def _run(args: argparse.Namespace, embedded: EmbeddedPostgres | None) -> dict[str, Any]:
    env_db = os.environ.get("DATABASE_URL")
    nats_url = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")
    if embedded is None and env_db:
        os.environ.setdefault("TEST_DATABASE_URL", env_db)
    elif embedded is None and "TEST_DATABASE_URL" not in os.environ and Path(LOCAL_SOCKET).exists():
        # Everything on one box: the services reach PostgreSQL as a co-located application would,
        # through its Unix socket (cheaper than loopback TCP for both sides). The ceilings use it too.
        os.environ["TEST_DATABASE_URL"] = LOCAL_SOCKET_URL
    print(f"ceilings on this machine (PostgreSQL {admin_url()}, NATS {nats_url}) …", flush=True)
    ceiling: dict[str, float] = {}
    ceiling |= await ceilings.jetstream(nats_url)
    ceiling |= await ceilings.postgres(admin_url().replace("postgresql+asyncpg", "postgresql"))
    ceiling |= await ceilings.fastapi_bare()
    print(json.dumps(ceiling), flush=True)

    database_url = await create_database("yiwang_bench")
    await reset_streams(nats_url)
    stack = Stack(
        var_dir=ROOT / "var" / "bench",
        database_url=database_url,
        nats_url=nats_url,
        ports={svc.name: free_port() for svc in SERVICES},
        extra_env={"ENV": "development", "LOG_LEVEL": "WARNING"}
        | {f"{svc.env_prefix}LOG_LEVEL": "WARNING" for svc in SERVICES},
    )
    try:
        await asyncio.to_thread(stack.migrate)
        await asyncio.to_thread(stack.load_demo)
        await asyncio.to_thread(stack.start)
        print(f"flow: {args.n} applications, window {args.window} …", flush=True)
        flow = await Driver(stack, args.n, args.window).run(nats_url)
    finally:
        stack.stop()
        await drop_database(database_url)
    per_app = flow["applications_per_s"]
    result = {
        "n": args.n,
        "window": args.window,
        **flow,
        "ceilings": ceiling,
        "ratios": {
            "applications_per_s_to_postgres_tx_per_s": round(per_app / ceiling["postgres_tx_per_s"], 4),
            "applications_per_s_to_jetstream_publish_ack_async_per_s": round(
                per_app / ceiling["jetstream_publish_ack_async_per_s"], 4
            ),
            "applications_per_s_to_jetstream_publish_ack_sync_per_s": round(
                per_app / ceiling["jetstream_publish_ack_sync_per_s"], 4
            ),
            "applications_per_s_to_fastapi_req_per_s": round(per_app / ceiling["fastapi_req_per_s"], 4),
        },
        "target_applications_per_s": 100,
        "environment": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "database": (
                f"embedded PostgreSQL ({embedded.bindir}), as make dev runs it"
                if embedded is not None
                else "PostgreSQL from DATABASE_URL"
                if env_db
                else "the machine's PostgreSQL"
            ),
            "database_transport": "unix socket" if "host=/" in admin_url() else "tcp",
            "command": f"make bench-e2e N={args.n}" + (" BENCH_DB=embedded" if embedded is not None else ""),
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
    }
    return result


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.e2e")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--window", type=int, default=64, help="applications in flight at most")
    parser.add_argument(
        "--db",
        choices=["server", "embedded"],
        default=os.environ.get("BENCH_DB") or "server",
        help="server: DATABASE_URL or the machine's PostgreSQL; embedded: start one as make dev does",
    )
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "e2e.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0 if result["applications_per_s"] > 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
