"""Deployment 部署: kustomize renders base and every overlay, each object validates offline against
the Kubernetes OpenAPI schemas (strict), and the manifests and Dockerfiles match the services."""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
VENV_BIN = ROOT / ".venv" / "bin"
KUBE_VERSION = kubernetes_validate.latest_version()
TARGETS = ["base", *sorted(f"overlays/{p.name}" for p in (K8S / "overlays").iterdir() if p.is_dir())]
# k8s directory -> (Python package token, environment prefix, port); docs/architecture.md.
SERVICES = {
    "gateway": ("gateway", "GATEWAY", 8000),
    "management": ("management", "MANAGEMENT", 8001),
    "business": ("business", "BUSINESS", 8002),
    "data-sharing": ("datasharing", "DATASHARING", 8003),
}
# Service-specific settings the ConfigMaps set: the env names must reach real Settings fields.
EXTRA_SETTINGS: dict[str, dict[str, Any]] = {
    "gateway": {"datasharing_url": "http://data-sharing:8003", "management_url": "http://management:8001"},
    "data-sharing": {"blob_dir": Path("/data/blobs")},
}
NATS_PROBE = "/healthz?js-enabled-only=true"
Rendered = dict[str, list[dict[str, Any]]]
PUBLIC_KEY = "-----BEGIN PUBLIC KEY-----\nplaceholder\n-----END PUBLIC KEY-----\n"


def _tool(name: str) -> str:
    path = shutil.which(name, path=str(VENV_BIN)) or shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not found in {VENV_BIN} or PATH (dev dependency; run `uv sync`)")
    return path


def _render(target: str) -> list[dict[str, Any]]:
    result = subprocess.run(
        [_tool("kubectl"), "kustomize", str(K8S / target)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"kubectl kustomize {target} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def rendered() -> Rendered:
    return {target: _render(target) for target in TARGETS}


def _get(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def _container(workload: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = workload["spec"]["template"]["spec"]["containers"][0]
    return container


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def _script(svc_dir: str) -> str:
    project = tomllib.loads((ROOT / "services" / svc_dir / "pyproject.toml").read_text(encoding="utf-8"))
    (script,) = project["project"]["scripts"]
    return str(script)


def _validation_errors(objects: list[dict[str, Any]]) -> list[str]:
    errors = []
    for obj in objects:
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        try:
            kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{where}: {'.'.join(map(str, exc.path))}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            errors.append(f"{where}: {exc.message}")
    return errors


class TestRender:
    @pytest.mark.parametrize("target", TARGETS)
    def test_every_object_validates_strictly(self, rendered: Rendered, target: str) -> None:
        assert rendered[target], f"{target} rendered nothing"
        assert _validation_errors(rendered[target]) == []

    @pytest.mark.parametrize("target", TARGETS)
    def test_object_names_are_unique_per_kind(self, rendered: Rendered, target: str) -> None:
        keys = [(o["kind"], o["metadata"]["name"]) for o in rendered[target]]
        assert len(keys) == len(set(keys))

    @pytest.mark.parametrize("target", TARGETS)
    def test_every_object_is_labelled_part_of_yiwang(self, rendered: Rendered, target: str) -> None:
        unlabelled = [
            f"{o['kind']}/{o['metadata']['name']}"
            for o in rendered[target]
            if o["kind"] != "Namespace"
            and o["metadata"].get("labels", {}).get("app.kubernetes.io/part-of") != "yiwang"
        ]
        assert unlabelled == []


def _deployment(**container_fields: Any) -> dict[str, Any]:
    container = {"name": "x", "image": "yiwang/x:latest", **container_fields}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {
            "selector": {"matchLabels": {"app": "x"}},
            "template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [container]}},
        },
    }


class TestValidatorCatchesMistakes:
    def test_a_well_formed_deployment_passes(self) -> None:
        assert kubernetes_validate.validate(_deployment(imagePullPolicy="Always"), KUBE_VERSION, strict=True)

    def test_misspelled_field_fails(self) -> None:
        with pytest.raises(kubernetes_validate.ValidationError, match="imagePullPolcy"):
            kubernetes_validate.validate(_deployment(imagePullPolcy="Always"), KUBE_VERSION, strict=True)

    def test_wrong_type_fails(self) -> None:
        broken = _deployment()
        broken["spec"]["replicas"] = "two"
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(broken, KUBE_VERSION, strict=True)

    def test_unknown_kind_is_reported(self) -> None:
        assert _validation_errors(
            [{"apiVersion": "apps/v1", "kind": "Deploymnet", "metadata": {"name": "x"}}]
        )


@pytest.mark.parametrize("svc", SERVICES)
class TestServiceManifests:
    def test_deployment_runs_the_service(self, rendered: Rendered, svc: str) -> None:
        container = _container(_get(rendered["base"], "Deployment", svc))
        assert container["image"] == f"yiwang/{svc}:latest"
        assert container["command"] == [_script(svc), "serve"]
        assert [p["containerPort"] for p in container["ports"]] == [SERVICES[svc][2]]

    def test_deployment_has_probes_and_resources(self, rendered: Rendered, svc: str) -> None:
        container = _container(_get(rendered["base"], "Deployment", svc))
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
        assert {"cpu", "memory"} <= container["resources"]["limits"].keys()

    @pytest.mark.parametrize("kind", ["Deployment", "Job"])
    def test_pods_are_hardened(self, rendered: Rendered, svc: str, kind: str) -> None:
        name = svc if kind == "Deployment" else f"{svc}-migrate"
        workload = _get(rendered["base"], kind, name)
        pod = workload["spec"]["template"]["spec"]
        container = _container(workload)
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
        tmp = next(m for m in container["volumeMounts"] if m["mountPath"] == "/tmp")
        assert "emptyDir" in next(v for v in pod["volumes"] if v["name"] == tmp["name"])

    def test_service_selects_the_deployment(self, rendered: Rendered, svc: str) -> None:
        service = _get(rendered["base"], "Service", svc)
        template_labels = _get(rendered["base"], "Deployment", svc)["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= template_labels.items()
        assert [p["port"] for p in service["spec"]["ports"]] == [SERVICES[svc][2]]

    def test_migration_job_runs_alembic(self, rendered: Rendered, svc: str) -> None:
        job = _get(rendered["base"], "Job", f"{svc}-migrate")
        container = _container(job)
        assert container["command"] == [_script(svc), "migrate"]
        assert container["image"] == f"yiwang/{svc}:latest"
        assert _env(container)["DATABASE_URL"] == {"secretKeyRef": {"name": "yiwang-database", "key": "url"}}

    def test_secrets_come_from_secret_refs(self, rendered: Rendered, svc: str) -> None:
        _, prefix, _ = SERVICES[svc]
        env = _env(_container(_get(rendered["base"], "Deployment", svc)))
        assert env["DATABASE_URL"] == {"secretKeyRef": {"name": "yiwang-database", "key": "url"}}
        assert env[f"{prefix}_AUTH__PUBLIC_KEY_PEM"] == {
            "secretKeyRef": {"name": "yiwang-auth", "key": "public_key_pem"}
        }
        signing = {"secretKeyRef": {"name": "yiwang-auth", "key": "private_key_pem"}}
        assert (signing in env.values()) is (svc == "gateway")

    @pytest.mark.parametrize(("target", "replicas"), [("base", 3), ("overlays/dev", 1), ("overlays/prod", 3)])
    def test_service_settings_load_from_the_manifest(
        self,
        rendered: Rendered,
        monkeypatch: pytest.MonkeyPatch,
        svc: str,
        target: str,
        replicas: int,
    ) -> None:
        token, prefix, port = SERVICES[svc]
        for key in list(os.environ):
            if key.startswith(f"{prefix}_") or key in {"DATABASE_URL", "NATS_URL", "ENV", "YIWANG_ENV"}:
                monkeypatch.delenv(key)
        for key, value in _get(rendered[target], "ConfigMap", f"{svc}-config")["data"].items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://yiwang@db:5432/yiwang")
        monkeypatch.setenv(f"{prefix}_AUTH__PUBLIC_KEY_PEM", PUBLIC_KEY)
        settings = importlib.import_module(f"yiwang_{token}.config").Settings()
        assert (settings.env, settings.host, settings.port) == ("production", "0.0.0.0", port)
        assert settings.db_url == "postgresql+asyncpg://yiwang@db:5432/yiwang"
        assert (settings.nats.url, settings.nats.stream_replicas) == ("nats://nats:4222", replicas)
        extra = EXTRA_SETTINGS.get(svc, {})
        assert {name: getattr(settings, name, None) for name in extra} == extra


class TestServiceWiring:
    def test_gateway_reaches_data_sharing_through_its_service(self, rendered: Rendered) -> None:
        config = _get(rendered["base"], "ConfigMap", "gateway-config")["data"]
        service = _get(rendered["base"], "Service", "data-sharing")
        assert (
            config["GATEWAY_DATASHARING_URL"] == f"http://data-sharing:{service['spec']['ports'][0]['port']}"
        )

    def test_gateway_reaches_management_through_its_service(self, rendered: Rendered) -> None:
        config = _get(rendered["base"], "ConfigMap", "gateway-config")["data"]
        service = _get(rendered["base"], "Service", "management")
        assert config["GATEWAY_MANAGEMENT_URL"] == f"http://management:{service['spec']['ports'][0]['port']}"

    def test_data_sharing_keeps_blobs_on_a_volume(self, rendered: Rendered) -> None:
        deployment = _get(rendered["base"], "Deployment", "data-sharing")
        config = _get(rendered["base"], "ConfigMap", "data-sharing-config")["data"]
        volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
        mount = next(
            m
            for m in _container(deployment)["volumeMounts"]
            if m["mountPath"] == config["DATASHARING_BLOB_DIR"]
        )
        assert volumes[mount["name"]]["persistentVolumeClaim"]["claimName"] == "yiwang-blobs"
        assert _get(rendered["base"], "PersistentVolumeClaim", "yiwang-blobs")

    def test_prod_pins_image_tags_and_autoscales_the_gateway(self, rendered: Rendered) -> None:
        prod = rendered["overlays/prod"]
        images = [_container(_get(prod, "Deployment", svc))["image"] for svc in SERVICES]
        assert all(not image.endswith(":latest") for image in images), images
        hpa = _get(prod, "HorizontalPodAutoscaler", "gateway")
        assert hpa["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": "gateway",
        }
        assert "replicas" not in _get(prod, "Deployment", "gateway")["spec"]


class TestSupervisionWorker:
    def test_the_worker_runs_managements_worker_command_with_its_settings(self, rendered: Rendered) -> None:
        for target in TARGETS:
            worker = _get(rendered[target], "Deployment", "management-worker")
            container = _container(worker)
            assert container["command"] == ["yiwang-management", "worker"]
            assert container["envFrom"] == [{"configMapRef": {"name": "management-config"}}]
            assert set(_env(container)) >= {"DATABASE_URL", "MANAGEMENT_AUTH__PUBLIC_KEY_PEM"}
            assert worker["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] == "worker"

    def test_no_service_selects_the_worker(self, rendered: Rendered) -> None:
        services = [o for o in rendered["base"] if o["kind"] == "Service"]
        assert all(
            s["spec"].get("selector", {}).get("app.kubernetes.io/component") != "worker" for s in services
        )

    def test_the_worker_interval_reaches_a_real_setting(self, rendered: Rendered) -> None:
        from yiwang_management.config import Settings

        container = _container(_get(rendered["base"], "Deployment", "management-worker"))
        interval = _env(container)["MANAGEMENT_SUPERVISION__SWEEP_INTERVAL_SECONDS"]
        settings = Settings(
            supervision={"sweep_interval_seconds": interval}, auth={"public_key_pem": PUBLIC_KEY}
        )
        assert settings.supervision.sweep_interval_seconds == int(interval)


class TestBusinessTimerWorker:
    def test_the_worker_runs_business_worker_command_with_its_settings(self, rendered: Rendered) -> None:
        from yiwang_business.config import Settings

        for target in TARGETS:
            worker = _get(rendered[target], "Deployment", "business-worker")
            container = _container(worker)
            assert container["command"] == ["yiwang-business", "worker"]
            assert container["envFrom"] == [{"configMapRef": {"name": "business-config"}}]
            assert set(_env(container)) >= {"DATABASE_URL", "BUSINESS_AUTH__PUBLIC_KEY_PEM"}
            assert worker["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] == "worker"
        container = _container(_get(rendered["base"], "Deployment", "business-worker"))
        interval = _env(container)["BUSINESS_TIMERS__SWEEP_INTERVAL_SECONDS"]
        settings = Settings(timers={"sweep_interval_seconds": interval}, auth={"public_key_pem": PUBLIC_KEY})
        assert settings.timers.sweep_interval_seconds == int(interval)


def _nats_conf(objects: list[dict[str, Any]]) -> str:
    return str(_get(objects, "ConfigMap", "nats-config")["data"]["nats.conf"])


class TestNats:
    def test_base_runs_three_jetstream_replicas_on_volumes(self, rendered: Rendered) -> None:
        statefulset = _get(rendered["base"], "StatefulSet", "nats")
        container = _container(statefulset)
        assert statefulset["spec"]["replicas"] == 3
        assert container["image"] == "nats:2.11-alpine"
        claim = statefulset["spec"]["volumeClaimTemplates"][0]["metadata"]["name"]
        data_mount = next(m["mountPath"] for m in container["volumeMounts"] if m["name"] == claim)
        conf = _nats_conf(rendered["base"])
        assert re.search(rf"jetstream\s*{{[^}}]*store_dir:\s*{re.escape(data_mount)}/", conf)
        assert {"cpu", "memory"} <= container["resources"]["requests"].keys()

    def test_cluster_routes_name_every_replica_through_the_headless_service(self, rendered: Rendered) -> None:
        statefulset = _get(rendered["base"], "StatefulSet", "nats")
        headless = _get(rendered["base"], "Service", statefulset["spec"]["serviceName"])
        assert headless["spec"]["clusterIP"] == "None"
        routes = re.findall(r"nats://(nats-\d+)\.([a-z-]+):6222", _nats_conf(rendered["base"]))
        assert routes == [(f"nats-{i}", headless["metadata"]["name"]) for i in range(3)]

    def test_probes_ask_for_jetstream(self, rendered: Rendered) -> None:
        container = _container(_get(rendered["base"], "StatefulSet", "nats"))
        assert container["readinessProbe"]["httpGet"]["path"] == NATS_PROBE
        assert container["livenessProbe"]["httpGet"]["path"] == NATS_PROBE

    def test_client_service_exposes_client_and_monitoring_ports(self, rendered: Rendered) -> None:
        ports = {p["name"]: p["port"] for p in _get(rendered["base"], "Service", "nats")["spec"]["ports"]}
        assert ports == {"client": 4222, "monitor": 8222}

    def test_dev_runs_one_node_without_cluster_routes(self, rendered: Rendered) -> None:
        dev = rendered["overlays/dev"]
        assert _get(dev, "StatefulSet", "nats")["spec"]["replicas"] == 1
        conf = _nats_conf(dev)
        assert "jetstream" in conf
        assert "cluster" not in conf

    @pytest.mark.parametrize("target", TARGETS)
    def test_nats_server_accepts_the_config(self, rendered: Rendered, target: str, tmp_path: Path) -> None:
        conf = tmp_path / "nats.conf"
        conf.write_text(_nats_conf(rendered[target]), encoding="utf-8")
        result = subprocess.run(
            [_tool("nats-server"), "-c", str(conf), "-t"],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "SERVER_NAME": "nats-0"},
        )
        assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("svc", SERVICES)
class TestDockerfiles:
    def test_dockerfile_builds_its_own_package(self, svc: str) -> None:
        text = (ROOT / "services" / svc / "Dockerfile").read_text(encoding="utf-8")
        script = _script(svc)
        assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
        assert f"uv sync --frozen --no-dev --no-editable --package {script}" in text
        assert f'ENTRYPOINT ["{script}"]' in text
        assert 'CMD ["serve"]' in text
        assert "COPY --from=build /app/.venv /app/.venv" in text
        others = [f"--package {_script(o)}" for o in SERVICES if o != svc]
        assert not [o for o in others if re.search(rf"{re.escape(o)}\b", text)]

    def test_dockerfile_runs_as_a_non_root_user(self, svc: str) -> None:
        text = (ROOT / "services" / svc / "Dockerfile").read_text(encoding="utf-8")
        users = re.findall(r"^USER\s+(\S+)", text, flags=re.MULTILINE)
        assert users, "no USER instruction"
        assert users[-1].split(":")[0] not in {"root", "0"}

    def test_copied_paths_exist_in_the_build_context(self, svc: str) -> None:
        text = (ROOT / "services" / svc / "Dockerfile").read_text(encoding="utf-8")
        sources = [
            src
            for line in re.findall(r"^COPY (?!--from)(.+)$", text, flags=re.MULTILINE)
            for src in line.split()[:-1]
        ]
        assert sources
        assert [s for s in sources if not (ROOT / s).exists()] == []


def test_dockerignore_keeps_the_venv_out_of_the_context() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", ".git"} <= set(ignored)
