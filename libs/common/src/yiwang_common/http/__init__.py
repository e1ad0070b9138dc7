"""HTTP building blocks: RFC 9457 problems, request context middleware, health and readiness."""

from __future__ import annotations

from yiwang_common.http.health import ReadinessCheck, health_router
from yiwang_common.http.middleware import RequestContextMiddleware
from yiwang_common.http.problems import (
    Conflict,
    Forbidden,
    NotFound,
    Problem,
    ProblemResponse,
    Unauthorized,
    UnprocessableContent,
    install_problem_handlers,
    problem_responses,
)

__all__ = [
    "Conflict",
    "Forbidden",
    "NotFound",
    "Problem",
    "ProblemResponse",
    "ReadinessCheck",
    "RequestContextMiddleware",
    "Unauthorized",
    "UnprocessableContent",
    "health_router",
    "install_problem_handlers",
    "problem_responses",
]
