"""Templates, security headers and error pages of business's console (待办, 办件, 流程图) (conventions of ADR 0017).

A copy of management's ``console.rendering`` (ADR 0016, 0021); the shared part is to move to
``yiwang_common.web`` now that business renders pages too (ADR 0115).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yiwang_common.http.problems import Problem

log = logging.getLogger(__name__)

PREFIX = "/console/handle"
STATIC_PREFIX = PREFIX + "/static"
STATIC_DIR = Path(__file__).parent / "static"


def content_security_policy(sign_in_origin: str) -> str:
    """Nothing inline, nothing framed; forms post here, or to the sign-in origin (sign-out)."""
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            "font-src 'self'",
            "connect-src 'self'",
            f"form-action 'self' {sign_in_origin}".strip(),
            "base-uri 'none'",
            "object-src 'none'",
            "frame-ancestors 'none'",
        )
    )


ERROR_TEXT: dict[int, tuple[str, str]] = {
    400: ("请求无效", "页面已过期或请求来源不明，请返回重新操作。"),
    403: ("无权操作", "您的账号无权进行此操作。"),
    404: ("页面不存在", "您要找的待办、办件或流程定义不存在。"),
    409: ("状态已变化", "办件或待办的状态不允许此操作，请刷新后重试。"),
    413: ("文件过大", "上传的文件超过允许的大小。"),
    422: ("输入有误", "您填写的内容无法处理，请检查后重新提交。"),
    500: ("系统繁忙", "服务器暂时无法完成您的请求，请稍后再试。我们已记录此问题。"),
}


def _asset_version() -> str:
    try:
        return version("yiwang-business")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "dev"


templates = Environment(
    loader=PackageLoader("yiwang_business.console", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ASSET_VERSION = _asset_version()
templates.globals["static"] = lambda path: f"{STATIC_PREFIX}/{path}?v={_ASSET_VERSION}"
templates.globals["prefix"] = PREFIX


def render(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    """Render a page; templates see ``request``, the signed-in staff and their CSRF token (if any)."""
    body = templates.get_template(template).render(
        {
            "request": request,
            "staff": getattr(request.state, "staff", None),
            "csrf": getattr(request.state, "csrf", ""),
            **context,
        }
    )
    return HTMLResponse(
        body, status_code=status_code, headers={"Vary": "HX-Request", "Cache-Control": "no-store"}
    )


def error_page(request: Request, status_code: int, detail: str | None = None) -> HTMLResponse:
    title, message = ERROR_TEXT.get(status_code, ERROR_TEXT[500] if status_code >= 500 else ERROR_TEXT[422])
    return render(
        request,
        "error.html",
        {"status": status_code, "title": title, "message": message, "detail": detail},
        status_code=status_code,
    )


class SignInRequired(Exception):
    """No valid staff cookie: the page answers with a redirect to the one sign-in."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


class PageRoute(APIRoute):
    """A console route: failures are a zh-CN page, never problem+json or a stack trace."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired as exc:
                return RedirectResponse(exc.url, status_code=303)
            except Problem as exc:
                return error_page(request, exc.status, exc.detail)
            except RequestValidationError:
                return error_page(request, 422)
            except StarletteHTTPException as exc:
                return error_page(request, exc.status_code, exc.detail if exc.status_code < 500 else None)
            except Exception:
                log.exception("console page failed", extra={"path": request.url.path})
                return error_page(request, 500)

        return page_handler


class SecurityHeadersMiddleware:
    """CSP and the other hardening headers on every console page and asset."""

    def __init__(self, app: ASGIApp, *, csp: str) -> None:
        self.app = app
        self.headers = (
            ("Content-Security-Policy", csp),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "same-origin"),
            ("X-Frame-Options", "DENY"),
            ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(PREFIX):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_console(app: FastAPI, router: Any, *, sign_in_origin: str) -> None:
    """Mount the console pages, their assets and their headers on ``app``."""
    app.include_router(router)
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="console-static")
    app.add_middleware(SecurityHeadersMiddleware, csp=content_security_policy(sign_in_origin))
