"""The launcher behind `make dev`, the end-to-end tests and the bench: ports, database, key."""

from __future__ import annotations

import json
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


class TestPlatforms:
    """Several platforms on one machine (ADR 0114): names, regions, modes, ports and wiring."""

    def _env(self, spec: str, mode: str) -> dict[str, dict[str, str]]:
        from scripts.stack import parse_platforms, platform_env

        platforms = parse_platforms(spec, mode)
        return {
            p.name: platform_env(platforms, p, lambda q: f"http://{q.host}:{q.ports()['gateway']}")
            for p in platforms
        }

    def test_each_platform_has_its_own_ports_address_region_and_issuer(self) -> None:
        from scripts.stack import parse_platforms

        province, city = parse_platforms("province=530000,city=530400", "统分")
        assert (province.level, city.level) == ("provincial", "city")
        assert province.ports()["gateway"] == 8000 and city.ports()["gateway"] == 8010
        assert set(province.ports().values()).isdisjoint(city.ports().values())
        assert (province.host, city.host) == ("127.0.0.1", "127.0.0.2")
        env = self._env("province=530000,city=530400", "统分")
        for svc in SERVICES:
            assert env["city"][f"{svc.env_prefix}PLATFORM__REGION_CODE"] == "530400"
            assert env["city"][f"{svc.env_prefix}PLATFORM__DEPLOYMENT_MODE"] == "semi_unified"
            assert env["city"][f"{svc.env_prefix}AUTH__ISSUER"] == "http://127.0.0.2:8010"
            assert env["province"][f"{svc.env_prefix}AUTH__ISSUER"] == "http://127.0.0.1:8000"

    def test_semi_unified_registers_the_cities_at_the_province_and_delegates_their_sign_in(self) -> None:
        env = self._env("province=530000,city=530400,kunming=530100", "semi")
        clients = json.loads(env["province"]["GATEWAY_FEDERATION__CLIENTS"])
        assert [(c["client_id"], c["redirect_uris"]) for c in clients] == [
            ("portal-city", ["http://127.0.0.2:8010/sign-in/oidc/callback"]),
            ("portal-kunming", ["http://127.0.0.3:8020/sign-in/oidc/callback"]),
        ]
        upstream = json.loads(env["city"]["GATEWAY_FEDERATION__UPSTREAM"])
        assert upstream["issuer"] == "http://127.0.0.1:8000" and upstream["client_id"] == "portal-city"
        assert upstream["authorization_endpoint"] == "http://127.0.0.1:8000/authorize"
        # Single logout (ADR 0116): the province posts logout tokens to each city, and a city's
        # sign-out goes through the province's end-session endpoint and back.
        assert clients[0]["backchannel_logout_uri"] == "http://127.0.0.2:8010/api/v1/auth/backchannel-logout"
        assert clients[0]["post_logout_redirect_uris"] == ["http://127.0.0.2:8010/sign-in"]
        assert upstream["end_session_endpoint"] == "http://127.0.0.1:8000/end-session"
        assert upstream["post_logout_redirect_uri"] == "http://127.0.0.2:8010/sign-in"
        assert json.loads(env["city"]["GATEWAY_AUTH__TRUSTED_ISSUERS"]) == [
            {"issuer": "http://127.0.0.1:8000", "jwks_url": "http://127.0.0.1:8000/.well-known/jwks.json"}
        ]
        # Only the gateway trusts another issuer; the province trusts none.
        assert not any(k.endswith("TRUSTED_ISSUERS") and not k.startswith("GATEWAY_") for k in env["city"])
        assert "GATEWAY_AUTH__TRUSTED_ISSUERS" not in env["province"]

    def test_split_recognises_across_levels_only(self) -> None:
        env = self._env("province=530000,city=530400,kunming=530100", "分建")
        peers = {
            name: [p["name"] for p in json.loads(e["GATEWAY_FEDERATION__PEERS"])] for name, e in env.items()
        }
        assert peers == {"province": ["city", "kunming"], "city": ["province"], "kunming": ["province"]}
        logout_uris = [
            p["backchannel_logout_uri"] for p in json.loads(env["city"]["GATEWAY_FEDERATION__PEERS"])
        ]
        assert logout_uris == ["http://127.0.0.1:8000/api/v1/auth/backchannel-logout"]

    def test_unified_wires_nothing_across(self) -> None:
        env = self._env("province=530000", "统建")
        assert not any("FEDERATION" in k or "TRUSTED" in k for k in env["province"])

    @pytest.mark.parametrize(
        ("spec", "mode", "message"),
        [
            ("province=530000", "几建", "unknown deployment mode"),
            ("province=5300", "统分", "6-digit"),
            ("province=530000,530400", "统分", "name=region"),
            ("city=530400,province=530000", "统分", "first platform is the province"),
            ("province=530000,city=440300", "分建", "not under the province"),
            ("province=530000,province=530400", "统分", "named twice"),
        ],
    )
    def test_bad_platform_lists_are_refused(self, spec: str, mode: str, message: str) -> None:
        from scripts.stack import parse_platforms

        with pytest.raises(ValueError, match=message):
            parse_platforms(spec, mode)

    def test_a_platforms_file_and_a_database_per_platform(self) -> None:
        from scripts.stack import ROOT, load_platforms_file, platform_database_url

        platforms = load_platforms_file(ROOT / "deploy" / "platforms.example.toml")
        assert [(p.name, p.region, p.mode) for p in platforms] == [
            ("province", "530000", "semi_unified"),
            ("yuxi", "530400", "semi_unified"),
            ("kunming", "530100", "semi_unified"),
        ]
        assert (
            platform_database_url("postgresql://postgres@127.0.0.1:5432/yiwang", "yuxi")
            == "postgresql://postgres@127.0.0.1:5432/yiwang_yuxi"
        )

    def test_the_environment_becomes_each_services_settings(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """What the launcher sets is what the services read: federation, trust, issuer and keys."""
        from yiwang_gateway.config import Settings as GatewaySettings
        from yiwang_management.config import Settings as ManagementSettings

        env = self._env("province=530000,city=530400", "统分")["city"]
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("YIWANG_VAR_DIR", str(tmp_path))
        gateway = GatewaySettings()
        assert gateway.platform.deployment_mode == "semi_unified" and gateway.platform.region_code == "530400"
        assert gateway.federation.upstream is not None
        assert gateway.federation.upstream.client_id == "portal-city"
        assert [t.issuer for t in gateway.auth.trusted_issuers] == ["http://127.0.0.1:8000"]
        assert gateway.auth.issuer == "http://127.0.0.2:8010"
        # Trusting the province does not stand in for the platform's own signing key.
        assert gateway.auth.private_key_pem.get_secret_value()
        management = ManagementSettings()
        assert management.auth.issuer == "http://127.0.0.2:8010" and management.auth.trusted_issuers == []
        assert management.platform.level == "city"
