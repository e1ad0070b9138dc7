"""RFC 9457 problem details: the only error format any yiwang service returns."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from yiwang_common.observability import current_request_id

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
#: Members RFC 9457 (and this platform) define; an extension member may not reuse their names.
_RESERVED = frozenset({"type", "title", "status", "detail", "instance", "code", "request_id"})


class ProblemResponse(BaseModel):
    """The problem+json body, for OpenAPI."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["/problems/not-found"])
    title: str = Field(examples=["资源不存在"])
    status: int = Field(examples=[404])
    detail: str | None = Field(default=None, examples=["办件 53042820261123000001E 不存在"])
    instance: str | None = None
    code: str = Field(examples=["not_found"])
    request_id: str | None = None


class Problem(Exception):
    """Base of every expected error. Subclass per error with ``status``, ``code`` and ``title``.

    ``title`` is user-facing and Chinese first; ``code`` is a stable machine identifier and
    also names the ``type`` URI reference.
    """

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "请求无效"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        """Create a problem.

        Args:
            detail: what went wrong in this case, in words the client can act on.
            **extra: further members of the problem object (e.g. ``missing_materials``).
        """
        super().__init__(detail or self.title)
        self.detail = detail
        self.extra = extra
        #: Response headers the problem needs (``Retry-After`` of a 429, …).
        self.headers: dict[str, str] = {}

    @classmethod
    def type_uri(cls) -> str:
        """Return the problem type as a relative URI reference.

        Returns:
            e.g. ``/problems/not-found``.
        """
        return "/problems/" + cls.code.replace("_", "-")

    def body(self, instance: str | None = None) -> dict[str, Any]:
        """Render the problem object.

        Args:
            instance: the request path.

        Returns:
            The JSON body.
        """
        # Extension members come first so that none can overwrite a standard one: ``status`` is
        # always the integer HTTP status (RFC 9457 §3.1.2), a domain state goes in its own member.
        body: dict[str, Any] = {k: v for k, v in self.extra.items() if k not in _RESERVED}
        body |= {
            "type": self.type_uri(),
            "title": self.title,
            "status": self.status,
            "code": self.code,
        }
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        if rid := current_request_id():
            body["request_id"] = rid
        return body


class BadRequest(Problem):
    """A request the server cannot act on."""


class Unauthorized(Problem):
    """No valid credentials."""

    status = 401
    code = "unauthorized"
    title = "未登录或登录凭证无效"


class Forbidden(Problem):
    """Authenticated, but not allowed."""

    status = 403
    code = "forbidden"
    title = "无权执行此操作"


class NotFound(Problem):
    """Nothing there, or nothing the caller may see (the two are not distinguished on purpose)."""

    status = 404
    code = "not_found"
    title = "资源不存在"


class Conflict(Problem):
    """The request conflicts with the current state."""

    status = 409
    code = "conflict"
    title = "与当前状态冲突"


class UnprocessableContent(Problem):
    """Well-formed, but semantically wrong."""

    status = 422
    code = "unprocessable_content"
    title = "请求内容无法处理"


class ValidationFailed(Problem):
    """Request did not match the schema."""

    status = 422
    code = "validation_failed"
    title = "请求参数校验失败"


class PayloadTooLarge(Problem):
    """The body is larger than allowed."""

    status = 413
    code = "payload_too_large"
    title = "上传内容过大"


class TooManyRequests(Problem):
    """Too many attempts; the ``Retry-After`` header says when to try again."""

    status = 429
    code = "too_many_requests"
    title = "请求过于频繁，请稍后再试"

    def __init__(self, detail: str | None = None, *, retry_after: int, **extra: Any) -> None:
        """Create a 429 problem.

        Args:
            detail: what went wrong.
            retry_after: seconds until a retry may succeed (also in the body as ``retry_after``).
            **extra: further members.
        """
        super().__init__(detail, retry_after=retry_after, **extra)
        self.headers["Retry-After"] = str(retry_after)


class ServiceUnavailable(Problem):
    """A dependency is down."""

    status = 503
    code = "service_unavailable"
    title = "服务暂不可用"


class InternalError(Problem):
    """Anything unexpected; never carries a stack trace."""

    status = 500
    code = "internal_error"
    title = "服务器内部错误"


_STATUS_PROBLEMS: dict[int, type[Problem]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    422: UnprocessableContent,
    503: ServiceUnavailable,
}


def problem_response(problem: Problem, request: Request) -> JSONResponse:
    """Render a problem as an HTTP response.

    Args:
        problem: the problem.
        request: the request it answers.

    Returns:
        A ``application/problem+json`` response.
    """
    headers = dict(problem.headers)
    if problem.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(
        problem.body(request.url.path), status_code=problem.status, media_type=PROBLEM_JSON, headers=headers
    )


#: zh-CN messages of the pydantic error types clients meet most; others keep pydantic's words.
_ZH_MESSAGES: dict[str, str] = {
    "missing": "必填项未填写",
    "string_too_short": "内容过短，至少 {min_length} 个字符",
    "string_too_long": "内容过长，最多 {max_length} 个字符",
    "too_short": "内容过短，至少 {min_length} 项",
    "too_long": "内容过长，最多 {max_length} 项",
    "string_pattern_mismatch": "格式不正确",
    "string_type": "应为字符串",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "bool_parsing": "应为布尔值",
    "literal_error": "取值不在允许范围内：{expected}",
    "enum": "取值不在允许范围内：{expected}",
    "extra_forbidden": "不允许的字段",
    "json_invalid": "请求体不是有效的 JSON",
    "model_attributes_type": "应为对象",
    "dict_type": "应为对象",
    "list_type": "应为数组",
    "uuid_parsing": "应为 UUID",
    "date_from_datetime_parsing": "应为日期 (YYYY-MM-DD)",
    "greater_than_equal": "不得小于 {ge}",
    "less_than_equal": "不得大于 {le}",
}


def json_pointer(loc: Any) -> str:
    """Render a pydantic ``loc`` as an RFC 6901 JSON pointer (``("body", "form", 0)`` → ``/body/form/0``).

    Args:
        loc: the location tuple.

    Returns:
        The pointer.
    """
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in loc)


def _message(error: Any) -> str:
    template = _ZH_MESSAGES.get(error.get("type", ""))
    if template is None:
        return str(error.get("msg", ""))
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError):
        return str(error.get("msg", ""))


def _clean_errors(errors: Any) -> list[dict[str, Any]]:
    # The raw input may echo personal data back into logs and responses; keep where and why only.
    return [
        {
            "loc": list(e.get("loc", ())),
            "pointer": json_pointer(e.get("loc", ())),
            "msg": _message(e),
            "type": e.get("type", ""),
        }
        for e in errors
    ]


class BodyUndecodable(ValidationFailed):
    """The body is not JSON (broken syntax, or bytes that are not UTF-8)."""

    code = "body_undecodable"
    title = "请求体无法解析"


# FastAPI answers a body it cannot decode (e.g. invalid UTF-8) with this 400; a broken ``{`` is a
# 422 there, and both are the same client mistake, so both become one documented 422.
_FASTAPI_BODY_ERROR = "There was an error parsing the body"


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error of the app a problem+json response.

    Args:
        app: the FastAPI application.
    """

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc, request)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = _clean_errors(exc.errors())
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:5])
        if any(e["type"] == "json_invalid" for e in errors):
            return problem_response(BodyUndecodable(detail, errors=errors), request)
        return problem_response(ValidationFailed(detail, errors=errors), request)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 400 and exc.detail == _FASTAPI_BODY_ERROR:
            return problem_response(BodyUndecodable("请求体必须是 UTF-8 编码的 JSON"), request)
        cls = _STATUS_PROBLEMS.get(exc.status_code)
        if cls is None:
            problem: Problem = Problem(str(exc.detail))
            body = problem.body(request.url.path) | {
                "status": exc.status_code,
                "code": f"http_{exc.status_code}",
            }
            return JSONResponse(body, status_code=exc.status_code, media_type=PROBLEM_JSON)
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail != cls.title else None
        return problem_response(cls(detail), request)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", exc_info=exc, extra={"path": request.url.path})
        return problem_response(InternalError(), request)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)


def problem_responses(*problems: type[Problem]) -> dict[int | str, dict[str, Any]]:
    """Declare a route's problem responses for OpenAPI.

    Args:
        *problems: the problem classes the route may raise.

    Returns:
        A ``responses=`` mapping with the problem+json schema and one example per status.
    """
    out: dict[int | str, dict[str, Any]] = {}
    classes: tuple[type[Problem], ...] = (*problems, ValidationFailed)
    for cls in classes:
        out.setdefault(
            cls.status,
            {
                "model": ProblemResponse,
                "description": cls.title,
                "content": {
                    PROBLEM_JSON: {
                        "example": {
                            "type": cls.type_uri(),
                            "title": cls.title,
                            "status": cls.status,
                            "code": cls.code,
                        }
                    }
                },
            },
        )
    return out
