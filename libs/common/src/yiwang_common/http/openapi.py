"""The OpenAPI document every service publishes, completed from what its routes really do.

Routes declare their domain problems with :func:`problem_responses`; what follows from the
framework is added here, from the route's dependencies, so that no route can forget it:

* an operation that needs a token declares ``security: bearerAuth`` (FastAPI does that from
  :data:`yiwang_common.auth.bearer_scheme`) and a 401; one that needs a role also a 403;
* an operation with parameters or a body declares the 422 its validation answers;
* every 4xx/5xx is ``application/problem+json`` with the :class:`ProblemResponse` schema, and
  nothing else (FastAPI would also advertise ``application/json``, which no error ever is).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from yiwang_common.http.problems import (
    PROBLEM_JSON,
    Forbidden,
    Problem,
    ProblemResponse,
    Unauthorized,
    ValidationFailed,
)

#: Attribute set on a dependency callable that refuses callers without a role (403).
REQUIRES_ROLE = "__yiwang_requires_role__"
_PROBLEM_REF = {"$ref": "#/components/schemas/ProblemResponse"}


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _calls(route: Any) -> list[Callable[..., Any]]:
    return [d.call for d in _dependants(route.dependant) if d.call is not None]


def _has_input(route: Any) -> bool:
    return any(
        d.path_params or d.query_params or d.header_params or d.cookie_params or d.body_params
        for d in _dependants(route.dependant)
    ) or bool((route.openapi_extra or {}).get("requestBody"))


def _problem_entry(cls: type[Problem]) -> dict[str, Any]:
    example = {"type": cls.type_uri(), "title": cls.title, "status": cls.status, "code": cls.code}
    return {"description": cls.title, "content": {PROBLEM_JSON: {"example": example}}}


def _as_problem(response: dict[str, Any]) -> None:
    media = response.get("content", {}).get(PROBLEM_JSON, {})
    entry: dict[str, Any] = {"schema": _PROBLEM_REF}
    if "example" in media:
        entry["example"] = media["example"]
    response["content"] = {PROBLEM_JSON: entry}


def complete_openapi(
    app: FastAPI, spec: dict[str, Any], auth_dependency: Callable[..., Any]
) -> dict[str, Any]:
    """Add the statuses the framework answers and make every error response problem+json.

    Args:
        app: the application whose routes the document describes.
        spec: the document FastAPI generated.
        auth_dependency: the dependency that verifies the bearer token.

    Returns:
        The same document, completed.
    """
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(
        "ProblemResponse", ProblemResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    )
    # Routes of included routers come with their effective path and dependencies this way.
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        calls = _calls(route)
        needed: list[type[Problem]] = []
        if auth_dependency in calls:
            needed.append(Unauthorized)
        if any(getattr(call, REQUIRES_ROLE, None) for call in calls):
            needed.append(Forbidden)
        if _has_input(route):
            needed.append(ValidationFailed)
        for method in route.methods or ():
            operation = spec["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for cls in needed:
                responses.setdefault(str(cls.status), _problem_entry(cls))
            for code, response in responses.items():
                if code[0] in "45":
                    _as_problem(response)
    return spec


def install_openapi(app: FastAPI, auth_dependency: Callable[..., Any]) -> None:
    """Make ``app.openapi()`` return the completed document (generated once, then cached).

    Args:
        app: the application.
        auth_dependency: the dependency that verifies the bearer token.
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
                servers=app.servers,
            )
            app.openapi_schema = complete_openapi(app, spec, auth_dependency)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
