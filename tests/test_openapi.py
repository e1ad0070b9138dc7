"""Every service publishes a complete OpenAPI document: summaries, descriptions, problem responses."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import pytest
from fastapi.routing import APIRoute

from yiwang_common.testing import ephemeral_auth

SERVICES = ["yiwang_gateway", "yiwang_management", "yiwang_business", "yiwang_datasharing"]


@pytest.fixture(scope="module", params=SERVICES)
def spec(request: pytest.FixtureRequest) -> dict[str, Any]:
    return offline_app(request.param).openapi()  # type: ignore[no-any-return]


def offline_app(package: str) -> Any:
    """A service's app that is never started: building it opens no connection, so the database
    URL only has to be a PostgreSQL one, and the key a throwaway."""
    main = importlib.import_module(f"{package}.main")
    config = importlib.import_module(f"{package}.config")
    settings = config.Settings(
        database={"url": "postgresql://openapi@127.0.0.1:1/none"}, auth=ephemeral_auth()
    )
    return main.create_app(settings)


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


def _sync_calls(dependant: Any, path: str) -> list[str]:
    """Every endpoint or dependency under ``dependant`` that FastAPI would run in its thread pool."""
    found = []
    call = dependant.call
    if call is not None and not (inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call)):
        found.append(f"{path}: {getattr(call, '__qualname__', call)}")
    for sub in dependant.dependencies:
        found += _sync_calls(sub, path)
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_no_endpoint_or_dependency_runs_in_the_thread_pool(service: str) -> None:
    # A sync ``def`` is handed to a worker thread on every request: a thread hop per call that
    # the services, which do no blocking work in handlers, never need.
    app = offline_app(service)
    routes = list(_api_routes(app.routes))
    assert routes, "no API route found: the walk below no longer matches FastAPI's router"
    sync = [found for path, dependant in routes for found in _sync_calls(dependant, path)]
    assert sync == []


def _api_routes(routes: Any) -> Any:
    """(path, dependant) of every API route, including those of included routers with their own
    dependencies (FastAPI keeps an included router as one lazily expanded entry)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route.path, route.dependant
        elif hasattr(route, "effective_candidates"):
            for context in route.effective_candidates():
                if hasattr(context, "dependant"):
                    yield context.path, context.dependant
                else:
                    yield from _api_routes([context])
