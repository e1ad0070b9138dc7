"""The authorisation matrix (docs/authorization-matrix.md): fresh, and true of the real apps.

Every cell is exercised: a real token of the cell's role (or none) goes to the endpoint of the
real app on a migrated PostgreSQL database. Denied cells must answer 401 / 403 (the role check
runs before any parameter is read); allowed cells must not; an administrator's personal-data
cells must refuse without a reason (403 ``reason_required``) and pass the check with one.
"""

from __future__ import annotations

import importlib
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from scripts import authz_matrix
from yiwang_common.config import DatabaseSettings
from yiwang_common.migrations import upgrade_database
from yiwang_common.testing import bearer, create_database, drop_database, ephemeral_auth

# One syntactically valid value per path parameter, so that an allowed call gets past validation.
PATH_VALUES = {
    "application_id": "0190c3b4-8a51-7c3e-9a0b-1c2d3e4f5a6b",
    "authorisation_id": "0190c3b4-8a51-7c3e-9a0b-1c2d3e4f5a6b",
    "basic_code": "000109003000",
    "code": "11100000000013338W001",
    "case_no": "53042820261123000001E",
    "day": "2026-12-01",
    "dead_letter_id": "1",
    "draft_id": "0190c3b4-8a51-7c3e-9a0b-1c2d3e4f5a6b",
    "file_format": "json",
    "identifier": "1153042801517645600000000000000001",
    "item_code": "11530428015176456L2000109003000",
    "joint_no": "53042820261123000001E",
    "job_id": "0190c3b4-8a51-7c3e-9a0b-1c2d3e4f5a6b",
    "kid": "k2026-0001",
    "kind": "acceptance",
    "org_code": "11530428015176456L",
    "part_no": "53042820261123000001EP01",
    "provider_order_id": "SBX" + "0" * 24,
    "registry": "population",
    "sha256": "0" * 64,
    "staff_id": "0190c3b4-8a51-7c3e-9a0b-1c2d3e4f5a6b",
    "task_id": "0190c3b4-8a51-7c3e-9a0b-1c2d3e4f5a6b",
    "token": "3q2-7wEAAQIDBAUGBwgJCgsMDQ4PEBES",
    "version": "1",
    "warning_id": "1",
    "year": "2027",
}
ROLE_INDEX = {role.key: i for i, role in enumerate(authz_matrix.ROLES)}
ROWS = authz_matrix.all_endpoints()


def test_document_is_fresh() -> None:
    assert authz_matrix.OUT.read_text(encoding="utf-8") == authz_matrix.render(ROWS), (
        "docs/authorization-matrix.md is stale: run `uv run python -m scripts.authz_matrix`"
    )


def test_every_service_and_every_role_is_in_the_matrix() -> None:
    assert {row.service for row in ROWS} == set(authz_matrix.SERVICES)
    for row in ROWS:
        assert len(row.cells) == len(authz_matrix.ROLES)
    # Deny by default is visible: every staff-only endpoint refuses applicants, every token
    # endpoint refuses anonymous callers.
    for row in ROWS:
        if row.authenticated:
            assert row.cells[ROLE_INDEX["anonymous"]] == authz_matrix.NO_TOKEN
        if row.roles is not None and "applicant" not in row.roles:
            assert row.cells[ROLE_INDEX["applicant"]] == authz_matrix.NO_ROLE


@pytest.fixture(scope="module")
async def apps() -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """The four apps, each on its own freshly migrated database, started without workers."""
    clients: dict[str, httpx.AsyncClient] = {}
    urls: list[str] = []
    contexts = []
    blob_dir = Path(tempfile.mkdtemp(prefix="yiwang-matrix-"))
    try:
        for service, package in authz_matrix.SERVICES.items():
            url = await create_database(f"yiwang_test_matrix_{service}")
            urls.append(url)
            schema = "datasharing" if service == "datasharing" else service
            migrations = Path(importlib.import_module(package).__file__ or "").parent / "migrations"
            await upgrade_database(DatabaseSettings(url=url, schema_name=schema), migrations)
            config = importlib.import_module(f"{package}.config")
            extra: dict[str, Any] = {"blob_dir": blob_dir} if service == "datasharing" else {}
            settings = config.Settings(
                database=DatabaseSettings(url=url, schema_name=schema),
                run_workers=False,
                auth=ephemeral_auth(),
                **extra,
            )
            app = importlib.import_module(f"{package}.main").create_app(settings)
            context = app.router.lifespan_context(app)
            await context.__aenter__()
            contexts.append(context)
            clients[service] = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://test"
            )
        yield clients
    finally:
        for client in clients.values():
            await client.aclose()
        for context in reversed(contexts):
            await context.__aexit__(None, None, None)
        for url in urls:
            await drop_database(url)


def _path(template: str) -> str:
    path = template
    for name, value in PATH_VALUES.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"no sample value for a parameter of {template}"
    return path


async def _call(
    client: httpx.AsyncClient, row: authz_matrix.Endpoint, headers: dict[str, str]
) -> httpx.Response:
    kwargs: dict[str, Any] = {"headers": headers}
    if row.method in {"POST", "PUT", "PATCH"}:
        kwargs["json"] = {}
    return await client.request(row.method, _path(row.path), **kwargs)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.service} {r.method} {r.path}")
async def test_every_cell_holds_against_the_real_app(
    apps: dict[str, httpx.AsyncClient], row: authz_matrix.Endpoint
) -> None:
    client = apps[row.service]
    for role, cell in zip(authz_matrix.ROLES, row.cells, strict=True):
        headers = bearer(role.principal) if role.principal is not None else {}
        response = await _call(client, row, headers)
        where = f"{role.key}: {row.method} {row.path} → {response.status_code} {response.text[:200]}"
        assert response.status_code < 500 or response.status_code in {502, 503, 504}, where
        if cell in {authz_matrix.NO_TOKEN, authz_matrix.SYSTEM_TOKEN}:
            assert response.status_code == 401, where
        elif cell == authz_matrix.NO_ROLE:
            assert response.status_code == 403 and response.json()["code"] == "forbidden", where
        elif cell == authz_matrix.WITH_REASON:
            assert response.status_code == 403 and response.json()["code"] == "reason_required", where
            with_reason = await _call(client, row, {**headers, "X-Access-Reason": "matrix"})
            assert with_reason.status_code not in {401, 403}, (
                f"{where} (with a reason: {with_reason.status_code})"
            )
        else:
            # Past the role check; a rule of the domain may still refuse with its own 403
            # (catalogue: only the centre approves, only the owning unit edits: item_not_owner).
            assert response.status_code != 401, where
            if response.status_code == 403:
                assert response.json()["code"] not in {"forbidden", "reason_required"}, where
