"""``/healthz`` (the process answers) and ``/readyz`` (its dependencies answer)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from yiwang_common.http.problems import PROBLEM_JSON

ReadinessCheck = Callable[[Request], Awaitable[bool]]


class Health(BaseModel):
    """Liveness or readiness status."""

    status: str
    checks: dict[str, bool] = {}


def health_router(checks: Mapping[str, ReadinessCheck]) -> APIRouter:
    """Build the health router.

    Args:
        checks: named readiness checks, e.g. ``{"database": ..., "nats": ...}``.

    Returns:
        A router with ``GET /healthz`` and ``GET /readyz``, outside ``/api/v1``.
    """
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="存活检查 Liveness", response_model=Health)
    async def healthz() -> Health:
        """The process is up and serving."""
        return Health(status="ok")

    @router.get(
        "/readyz",
        summary="就绪检查 Readiness",
        response_model=Health,
        responses={503: {"description": "A dependency is not reachable", "content": {PROBLEM_JSON: {}}}},
    )
    async def readyz(request: Request) -> JSONResponse:
        """The database and the event bus answer."""
        results: dict[str, bool] = {}
        for name, check in checks.items():
            try:
                results[name] = await check(request)
            except Exception:
                results[name] = False
        if all(results.values()):
            return JSONResponse({"status": "ready", "checks": results})
        body = {
            "type": "/problems/not-ready",
            "title": "服务未就绪",
            "status": 503,
            "code": "not_ready",
            "detail": "unavailable: " + ", ".join(k for k, v in results.items() if not v),
            "checks": results,
        }
        return JSONResponse(body, status_code=503, media_type=PROBLEM_JSON)

    return router
