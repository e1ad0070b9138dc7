"""A PostgreSQL server run from installed binaries, owned by the process that starts it.

``make dev`` keeps one under ``var/pg`` (from the pip-shipped ``pgserver`` binaries, so that
nothing but ``uv sync`` is needed); ``make test`` starts a throwaway one when no server
answers. initdb and postgres refuse to run as root, so as root they run as ``postgres`` (or
``nobody``) through ``runuser``.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import pwd
import shutil
import subprocess
from pathlib import Path
from typing import Literal

Prefer = Literal["pip", "system"]


def pip_bindir() -> Path | None:
    """The binaries shipped by the ``pgserver`` wheel, if it is installed."""
    # Located, not imported: importing pgserver runs code (and warns) that only its own server needs.
    spec = importlib.util.find_spec("pgserver")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "pginstall" / "bin"


def pg_bindirs(prefer: Prefer = "system") -> list[Path]:
    """Directories holding ``initdb`` and ``pg_ctl``, the preferred source first."""
    system = [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    pip = [d for d in [pip_bindir()] if d is not None]
    dirs = pip + system if prefer == "pip" else system + pip
    return [d for d in dirs if (d / "initdb").exists() and (d / "pg_ctl").exists()]


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


class EmbeddedPostgres:
    """One PostgreSQL cluster in ``root/db``, its socket in ``root``, its log in ``root/log``."""

    def __init__(self, root: Path, *, prefer: Prefer = "system", database: str = "postgres") -> None:
        self.root = root.resolve()
        self.prefer: Prefer = prefer
        self.database = database
        self.bindir: Path | None = None
        self.port: int | None = None
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "postgres" if _user_exists("postgres") else "nobody"

    @property
    def data(self) -> Path:
        return self.root / "db"

    @property
    def log(self) -> Path:
        return self.root / "log"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def _as_user(self, cmd: list[str]) -> list[str]:
        return ["runuser", "-u", self.user, "--", *cmd] if self.user else cmd

    def _run(self, cmd: list[str]) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(self._as_user(cmd), capture_output=True)

    def _running_port(self) -> int | None:
        """The port of a server already running on this data directory (a launcher that died)."""
        pid_file = self.data / "postmaster.pid"
        if self.bindir is None or not pid_file.exists():
            return None
        if self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "status"]).returncode != 0:
            return None
        lines = pid_file.read_text().splitlines()
        return int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None

    def start(self) -> str:
        """Initialise the cluster on first use, start it (or adopt a running one) and return its URL.

        Raises:
            RuntimeError: if no binaries could initialise and start a server.
        """
        errors: list[str] = []
        if self.user:
            blocked = [a for a in self.root.parents if a.exists() and not os.stat(a).st_mode & 0o001]
            if blocked:
                raise RuntimeError(
                    f"PostgreSQL runs as {self.user!r} (never as root) and cannot reach {self.root}: "
                    f"{blocked[0]} is not searchable by others (chmod o+x, or set DATABASE_URL)"
                )
        for bindir in pg_bindirs(self.prefer):
            self.bindir = bindir
            self.root.mkdir(parents=True, exist_ok=True)
            if self.user:
                shutil.chown(self.root, self.user)
            if not (self.data / "PG_VERSION").exists():
                init = self._run(
                    [str(bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust"]
                    + ["--encoding=UTF8", "--no-locale"]
                )
                if init.returncode != 0:
                    errors.append(f"{bindir}/initdb: {init.stderr.decode(errors='replace')[-500:]}")
                    continue
            running = self._running_port()
            if running is not None:
                self.port = running
                return self._ensure_database()
            from scripts.stack import free_port  # the launcher imports this module

            self.port = free_port()
            opts = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root}"
            start = self._run(
                [str(bindir / "pg_ctl"), "-D", str(self.data), "-o", opts, "-w", "-l", str(self.log), "start"]
            )
            if start.returncode == 0:
                return self._ensure_database()
            errors.append(f"{bindir}/pg_ctl start: see {self.log}")
        raise RuntimeError("could not start an embedded PostgreSQL:\n" + "\n".join(errors or ["no binaries"]))

    def _ensure_database(self) -> str:
        if self.database != "postgres":
            assert self.bindir is not None
            # Fails harmlessly when the database exists (every start after the first).
            self._run(
                [str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
                + [self.database]
            )
        return self.url

    def stop(self) -> None:
        """Stop the server (fast shutdown: open sessions are rolled back)."""
        if self.bindir is not None and (self.data / "postmaster.pid").exists():
            self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])
