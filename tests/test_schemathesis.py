"""Schemathesis against each service over a real uvicorn, on real PostgreSQL and NATS (issue 6).

Each service runs as ``serve`` runs it (uvicorn + httptools with the problem+json parser errors)
on a free port with its migrated database. For every operation of its own OpenAPI document,
Schemathesis generates requests from the schema and checks that the answer is never a 5xx and
conforms to the document: a documented status, a documented content type, a body matching the
documented schema, documented headers. Calls carry a valid token so that secured operations are
exercised past their 401.

The budget is bounded (``SCHEMATHESIS_MAX_EXAMPLES`` per operation, 12 by default, a fixed seed),
so the four services together take well under a minute here.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from scripts.stack import free_port
from yiwang_common.auth import STAFF_ROLES, Principal
from yiwang_common.http.limits import ProblemHttpToolsProtocol
from yiwang_common.migrations import upgrade_database
from yiwang_common.testing import create_database, drop_database, ephemeral_auth, nats_url, token_issuer

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
ORG_CODE = "11530428015176456L"
SERVICES = {
    "gateway": "yiwang_gateway",
    "management": "yiwang_management",
    "business": "yiwang_business",
    "datasharing": "yiwang_datasharing",
}


def _token(service: str) -> str:
    issuer = token_issuer()
    if service == "gateway":
        principal = Principal(
            sub="zhangsan", name="张三", kind="natural_person", roles=frozenset({"applicant"})
        )
    else:
        principal = Principal(sub="staff-1", name="全能", kind="staff", roles=STAFF_ROLES, org_code=ORG_CODE)
    return issuer.issue(principal)


class RunningService:
    """One service under a real uvicorn in a thread (its own event loop), on a fresh database."""

    def __init__(self, service: str, tmp: Path, **extra: Any) -> None:
        self.service = service
        package = SERVICES[service]
        self.url = asyncio.run(create_database(f"yiwang_test_fuzz_{service}"))
        config_module = importlib.import_module(f"{package}.config")
        if service == "datasharing":
            extra["blob_dir"] = tmp / "blobs"
        self.settings = config_module.Settings(
            database={"url": self.url},
            nats={"url": nats_url()},
            auth=ephemeral_auth(),
            run_workers=False,
            env="test",
            **extra,
        )
        migrations = Path(importlib.import_module(package).__file__ or "").parent / "migrations"
        asyncio.run(upgrade_database(self.settings.database, migrations))
        self.app = importlib.import_module(f"{package}.main").create_app(self.settings)
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                host="127.0.0.1",
                port=self.port,
                http=ProblemHttpToolsProtocol,
                log_config=None,
                access_log=False,
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> RunningService:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"{self.service} did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        asyncio.run(drop_database(self.url))


@pytest.fixture(scope="module", params=list(SERVICES))
def running(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningService]:
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param != "gateway":
        with RunningService(request.param, tmp) as service:
            yield service
        return
    # The gateway streams uploads through to data-sharing: a real one runs behind it.
    with RunningService("datasharing", tmp) as upstream:
        upstream_url = f"http://127.0.0.1:{upstream.port}"
        with RunningService("gateway", tmp, datasharing_url=upstream_url) as service:
            yield service


def test_no_5xx_and_every_response_conforms_to_the_schema(running: RunningService) -> None:
    schema = schemathesis.openapi.from_dict(running.app.openapi())
    # NUL and other control characters are part of what clients may send: every text field
    # refuses them with a 422 (yiwang_common.text), which this run checks among the rest.
    schema.config.generation.update(allow_x00=True)
    base_url = f"http://127.0.0.1:{running.port}"
    headers = {"Authorization": f"Bearer {_token(running.service)}"}
    failures: dict[str, str] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @seed(6)
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def exercise(case: Any) -> None:
            case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)

        try:
            exercise()
        except Exception as exc:  # every operation is tried; all failures are reported together
            failures[operation.label] = f"{type(exc).__name__}: {str(exc)[:1500]}"
    assert operations >= 5
    assert failures == {}
