"""The launcher behind `make dev`, the end-to-end tests and the bench: ports, database, key."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from scripts.stack import BY_NAME, SERVICES, WORKERS, Stack, resolve_ports


class TestPorts:
    def test_a_port_from_the_environment_is_the_port_the_service_gets(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.setenv("GATEWAY_PORT", "9000")
        stack = Stack(var_dir=tmp_path)
        assert stack.ports["gateway"] == 9000
        assert stack.url("gateway") == "http://127.0.0.1:9000"
        assert stack.env(BY_NAME["gateway"])["GATEWAY_PORT"] == "9000"
        # The others keep their documented defaults, and the portal still finds data-sharing.
        assert stack.env(BY_NAME["management"])["MANAGEMENT_PORT"] == "8001"
        assert stack.env(BY_NAME["gateway"])["GATEWAY_DATASHARING_URL"] == "http://127.0.0.1:8003"
        assert stack.env(BY_NAME["gateway"])["GATEWAY_MANAGEMENT_URL"] == "http://127.0.0.1:8001"

    def test_every_service_can_be_moved(self) -> None:
        environ = {f"{svc.env_prefix}PORT": str(9100 + i) for i, svc in enumerate(SERVICES)}
        assert resolve_ports(environ) == {svc.name: 9100 + i for i, svc in enumerate(SERVICES)}

    def test_defaults_without_variables(self) -> None:
        assert resolve_ports({}) == {
            "data-sharing": 8003,
            "management": 8001,
            "business": 8002,
            "gateway": 8000,
        }

    @pytest.mark.parametrize("value", ["abc", "0", "70000", "-1"])
    def test_a_port_that_is_no_port_is_refused(self, value: str) -> None:
        with pytest.raises(ValueError, match="GATEWAY_PORT"):
            resolve_ports({"GATEWAY_PORT": value})

    def test_two_services_on_one_port_are_refused(self) -> None:
        with pytest.raises(ValueError, match="same port"):
            resolve_ports({"GATEWAY_PORT": "8001"})

    def test_explicit_ports_win_over_the_environment(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.setenv("GATEWAY_PORT", "9000")
        stack = Stack(var_dir=tmp_path, ports={"gateway": 9555})
        assert stack.env(BY_NAME["gateway"])["GATEWAY_PORT"] == "9555"


class TestWorkers:
    def test_the_supervision_worker_is_started_with_managements_environment(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        started: list[tuple[list[str], dict[str, str]]] = []

        class FakePopen:
            def __init__(self, args: list[str], *, env: dict[str, str], **_: object) -> None:
                started.append((args, env))

        monkeypatch.setattr(subprocess, "Popen", FakePopen)
        stack = Stack(var_dir=tmp_path, database_url="postgresql://postgres@db.example/yiwang")
        for name, _, _ in WORKERS:
            stack.start_worker(name)
        assert [args[1:] for args, _ in started] == [["worker"], ["worker"]]
        args, env = started[0]
        assert args[0].endswith("yiwang-management")
        assert env["DATABASE_URL"] == "postgresql://postgres@db.example/yiwang"
        assert "management-worker" in stack.procs
        # The business step timers' worker (ADR 0113), with business's environment.
        args, env = started[1]
        assert args[0].endswith("yiwang-business")
        assert env["DATABASE_URL"] == "postgresql://postgres@db.example/yiwang"
        assert "business-worker" in stack.procs

    @pytest.mark.parametrize("service", ["management", "business"])
    def test_the_worker_command_exists(self, service: str, tmp_path: Path) -> None:
        result = subprocess.run(
            [BY_NAME[service].command, "worker", "--help"], capture_output=True, timeout=60, cwd=tmp_path
        )
        assert result.returncode == 0
        assert "--once" in result.stdout.decode()


class TestDatabase:
    def test_a_database_url_given_is_used_and_nothing_is_started(self, tmp_path: Path) -> None:
        stack = Stack(var_dir=tmp_path, database_url="postgresql://postgres@db.example/yiwang")
        assert stack.ensure_database() == "postgresql://postgres@db.example/yiwang"
        assert stack.postgres is None
        assert stack.env(BY_NAME["business"])["DATABASE_URL"] == "postgresql://postgres@db.example/yiwang"


class TestRefusals:
    def test_a_production_service_without_a_key_refuses_to_start_and_says_why(self, tmp_path: Path) -> None:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "YIWANG_ENV": "production",
            "YIWANG_VAR_DIR": str(tmp_path),
            "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none",
        }
        result = subprocess.run(
            [BY_NAME["gateway"].command, "serve"], env=env, capture_output=True, timeout=60, cwd=tmp_path
        )
        assert result.returncode == 1
        assert "GATEWAY_AUTH__PRIVATE_KEY_PEM" in result.stderr.decode()
        assert not (tmp_path / "keys").exists()

    def test_a_service_without_a_database_refuses_to_start_and_says_why(self, tmp_path: Path) -> None:
        env = {"PATH": os.environ.get("PATH", ""), "YIWANG_VAR_DIR": str(tmp_path)}
        result = subprocess.run(
            [BY_NAME["business"].command, "migrate"], env=env, capture_output=True, timeout=60, cwd=tmp_path
        )
        assert result.returncode == 1
        assert "DATABASE_URL" in result.stderr.decode()
