"""Every service publishes a complete OpenAPI document: summaries, descriptions, problem responses."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

SERVICES = ["yiwang_gateway", "yiwang_management", "yiwang_business", "yiwang_datasharing"]


@pytest.fixture(scope="module", params=SERVICES)
def spec(request: pytest.FixtureRequest) -> dict[str, Any]:
    main = importlib.import_module(f"{request.param}.main")
    return main.create_app().openapi()  # type: ignore[no-any-return]


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()]


def test_health_endpoints_and_versioned_api(spec: dict[str, Any]) -> None:
    paths = set(spec["paths"])
    assert {"/healthz", "/readyz"} <= paths
    assert all(p.startswith("/api/v1/") for p in paths - {"/healthz", "/readyz"})


def test_every_operation_is_documented(spec: dict[str, Any]) -> None:
    for path, method, op in operations(spec):
        assert op.get("summary"), f"{method} {path} has no summary"
        assert op.get("description"), f"{method} {path} has no description"
        assert op.get("operationId"), f"{method} {path} has no operationId"


def test_api_operations_declare_their_problem_responses(spec: dict[str, Any]) -> None:
    for path, method, op in operations(spec):
        if not path.startswith("/api/"):
            continue
        problems = [code for code in op["responses"] if code.startswith("4")]
        assert problems, f"{method} {path} declares no 4xx problem response"
        for code in problems:
            content = op["responses"][code].get("content", {})
            assert "application/problem+json" in content, f"{method} {path} {code} is not problem+json"


def test_request_bodies_have_schemas_with_examples(spec: dict[str, Any]) -> None:
    schemas = spec.get("components", {}).get("schemas", {})
    for path, method, op in operations(spec):
        body = op.get("requestBody")
        if not body or "application/json" not in body["content"]:
            continue
        top = body["content"]["application/json"]["schema"]
        refs = [top.get("$ref", "")] + [alt.get("$ref", "") for alt in top.get("anyOf", [])]
        ref = next(r for r in refs if r)
        schema = schemas[ref.rsplit("/", 1)[-1]]
        text = str(schema)
        assert "example" in text or "default" in text, f"{method} {path}: request schema has no examples"
