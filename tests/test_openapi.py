"""Every service publishes a complete OpenAPI document: summaries, descriptions, problem responses."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from fastapi.routing import APIRoute

from tests.apps import offline_app

SERVICES = ["yiwang_gateway", "yiwang_management", "yiwang_business", "yiwang_datasharing"]


@pytest.fixture(scope="module", params=SERVICES)
def spec(request: pytest.FixtureRequest) -> dict[str, Any]:
    return offline_app(request.param).openapi()  # type: ignore[no-any-return]


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()]


def test_health_endpoints_and_versioned_api(spec: dict[str, Any]) -> None:
    paths = set(spec["paths"])
    assert {"/healthz", "/readyz"} <= paths
    # OpenID discovery and the JWKS live where RFC 8414 / OIDC Discovery put them (gateway only).
    wellknown = {"/.well-known/openid-configuration", "/.well-known/jwks.json"}
    assert all(p.startswith("/api/v1/") for p in paths - {"/healthz", "/readyz"} - wellknown)


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
    if call is not None and not inspect.isroutine(call):
        # A callable object (fastapi.security.HTTPBearer): FastAPI awaits its async __call__.
        call = type(call).__call__
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


# --- Security and status coverage (issue 6) -----------------------------------------------------
# Checked against whatever operations exist when the test runs, not a frozen list, so an endpoint
# added later is held to the same rules.

#: Operations anyone may call: health, login, the public catalogue and licence verification.
PUBLIC = {
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("post", "/api/v1/auth/token"),
    ("post", "/api/v1/auth/sms-code"),
    ("post", "/api/v1/auth/revoke"),
    # Another platform's logout token is the credential (ADR 0116), not a bearer token.
    ("post", "/api/v1/auth/backchannel-logout"),
    ("get", "/.well-known/openid-configuration"),
    ("get", "/.well-known/jwks.json"),
    ("get", "/api/v1/items"),
    ("get", "/api/v1/items/{item_code}"),
    ("get", "/api/v1/catalogue/search"),
    # 目录清单 and the lists in force are published (CAT-05), and so is their spreadsheet template.
    ("get", "/api/v1/catalogue/entries"),
    ("get", "/api/v1/catalogue/entries/{basic_code}"),
    ("get", "/api/v1/catalogue/items/{item_code}/guide"),
    ("get", "/api/v1/catalogue/items/{item_code}/guide.html"),
    ("get", "/api/v1/catalogue/items/{item_code}/guide.pdf"),
    ("get", "/api/v1/catalogue/template.{file_format}"),
    ("get", "/api/v1/catalogue/export.{file_format}"),
    ("get", "/api/v1/licences/{identifier}/verification"),
    # 注册 (ADR 0104): sign-up and its pre-fill come before any account exists.
    ("post", "/api/v1/registrations/natural-persons"),
    ("post", "/api/v1/registrations/legal-persons"),
    ("post", "/api/v1/registrations/legal-persons/prefill"),
    ("get", "/api/v1/licence-verifications/{token}"),
    ("post", "/api/v1/licence-verifications"),
    # An external system's client credentials → its token (ADR 0112).
    ("post", "/api/v1/plugin/token"),
    ("get", "/api/v1/licence-types"),
    ("get", "/api/v1/licence-types/{code}"),
    ("get", "/api/v1/licence-keys/{kid}"),
    ("get", "/api/v1/licences/verification/{token}"),
    # 收费标准 is public; the sandbox provider's cashier and its HMAC-signed notifications carry
    # no token (the order id is the cashier's capability, the signature the notification's).
    ("get", "/api/v1/items/{item_code}/fees"),
    ("get", "/api/v1/payment-sandbox/orders/{provider_order_id}"),
    ("post", "/api/v1/payment-sandbox/orders/{provider_order_id}/pay"),
    ("post", "/api/v1/payments/notifications/sandbox"),
}
PROBLEM = "application/problem+json"


def test_security_scheme_is_bearer_jwt(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    # Besides the users' JWT, management accepts external systems' own tokens on the plug-in
    # callbacks (ADR 0112); no other scheme.
    assert set(schemes) <= {"bearerAuth", "pluginToken"} and "bearerAuth" in schemes
    if "pluginToken" in schemes:
        assert schemes["pluginToken"]["type"] == "http" and schemes["pluginToken"]["scheme"] == "bearer"
    assert schemes["bearerAuth"]["type"] == "http"
    assert schemes["bearerAuth"]["scheme"] == "bearer"
    assert schemes["bearerAuth"]["bearerFormat"] == "JWT"


def test_every_non_public_operation_declares_security_and_public_ones_none(spec: dict[str, Any]) -> None:
    for path, method, op in operations(spec):
        if (method, path) in PUBLIC:
            assert "security" not in op, f"{method} {path} is public but declares security"
        elif op.get("x-access-scope") == "external-system":
            assert op.get("security") == [{"pluginToken": []}], f"{method} {path} declares no system token"
        else:
            assert op.get("security") == [{"bearerAuth": []}], f"{method} {path} declares no security"


def test_secured_operations_document_401_and_role_checked_ones_403(spec: dict[str, Any]) -> None:
    for path, method, op in operations(spec):
        if op.get("security"):
            assert "401" in op["responses"], f"{method} {path} needs a token but documents no 401"


@pytest.mark.parametrize("service", SERVICES)
def test_role_checked_operations_document_403(service: str) -> None:
    from yiwang_common.http.openapi import REQUIRES_ROLE

    app = offline_app(service)
    document = app.openapi()
    checked = 0
    for path, dependant in _api_routes(app.routes):
        calls = [d.call for d in _walk(dependant)]
        if not any(getattr(c, REQUIRES_ROLE, None) for c in calls):
            continue
        for op in document["paths"][path].values():
            if op.get("operationId", "").endswith(dependant.call.__name__):
                assert "403" in op["responses"], f"{path} checks a role but documents no 403"
                checked += 1
    # data-sharing has no role-checked operation; the others must have been seen.
    assert checked or service == "yiwang_datasharing"


def _walk(dependant: Any) -> Any:
    yield dependant
    for sub in dependant.dependencies:
        yield from _walk(sub)


def test_operations_with_input_document_422(spec: dict[str, Any]) -> None:
    for path, method, op in operations(spec):
        if op.get("parameters") or op.get("requestBody"):
            assert "422" in op["responses"], f"{method} {path} takes input but documents no 422"


def test_every_error_response_is_problem_json_with_its_schema(spec: dict[str, Any]) -> None:
    assert "ProblemResponse" in spec["components"]["schemas"]
    for path, method, op in operations(spec):
        for code, response in op["responses"].items():
            if code[0] not in "45":
                continue
            content = response.get("content", {})
            assert list(content) == [PROBLEM], f"{method} {path} {code}: {sorted(content)}"
            assert content[PROBLEM]["schema"] == {"$ref": "#/components/schemas/ProblemResponse"}
            example = content[PROBLEM].get("example")
            if example is not None:
                assert example["status"] == int(code), f"{method} {path} {code}: example status"


def test_problem_status_member_is_an_integer(spec: dict[str, Any]) -> None:
    status = spec["components"]["schemas"]["ProblemResponse"]["properties"]["status"]
    assert status["type"] == "integer"


def test_material_download_declares_the_stored_media_types() -> None:
    document = offline_app("yiwang_datasharing").openapi()
    ok = document["paths"]["/api/v1/materials/{sha256}"]["get"]["responses"]["200"]["content"]
    assert set(ok) == {"application/pdf", "image/png", "image/jpeg", "application/ofd"}
    assert all(media["schema"] == {"type": "string", "format": "binary"} for media in ok.values())


def test_gateway_material_upload_documents_auth_and_role_failures() -> None:
    document = offline_app("yiwang_gateway").openapi()
    responses = document["paths"]["/api/v1/materials"]["post"]["responses"]
    assert {"401", "403", "413", "422"} <= set(responses)


def test_login_documents_429() -> None:
    document = offline_app("yiwang_gateway").openapi()
    assert "429" in document["paths"]["/api/v1/auth/token"]["post"]["responses"]
