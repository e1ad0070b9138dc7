"""Templates, error pages, security headers and the wiring of the pages into the gateway app."""

from __future__ import annotations

import hashlib
import inspect
import logging
from collections.abc import Callable, Coroutine
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yiwang_common.http.problems import Problem

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PREFIX = "/static"
# Paths that belong to the API and the platform, not to the pages: they keep problem+json.
NON_PAGE_PREFIXES = ("/api/", "/healthz", "/readyz", "/docs", "/redoc", "/openapi.json")

#: Pages and their assets come from this origin only; nothing inline, nothing framed.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)

ERROR_TEXT: dict[int, tuple[str, str]] = {
    404: ("页面不存在", "您要找的页面或事项不存在，或者尚未发布。"),
    405: ("无法处理该请求", "该页面不支持这种访问方式。"),
    422: ("输入有误", "您输入的内容无法处理，请检查后重新输入。"),
    500: ("系统繁忙", "服务器暂时无法完成您的请求，请稍后再试。我们已记录此问题。"),
    502: ("服务暂不可用", "相关平台暂时无法完成您的请求，请稍后再试。"),
    503: ("服务暂不可用", "服务暂时不可用，请稍后再试。"),
}


def is_page_path(path: str) -> bool:
    """Pages (and their error pages) are everything outside the API and the platform endpoints."""
    return not path.startswith(NON_PAGE_PREFIXES)


def _asset_version() -> str:
    try:
        return version("yiwang-gateway")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "dev"


templates = Environment(
    loader=PackageLoader("yiwang_gateway.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    enable_async=False,
)
_ASSET_VERSION = _asset_version()
templates.globals["static"] = lambda path: f"{STATIC_PREFIX}/{path}?v={_ASSET_VERSION}"
# Element ids from arbitrary values (department names, material codes): stable across renders,
# so htmx can put the focus back on the same checkbox after a swap.
templates.filters["idsafe"] = lambda value: hashlib.blake2s(str(value).encode(), digest_size=5).hexdigest()
templates.tests["startingwith"] = lambda value, prefix: str(value).startswith(prefix)


def render(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    """Render a page; the template sees ``request`` and whether htmx asked for a fragment."""
    body = templates.get_template(template).render(
        {"request": request, "htmx": request.headers.get("HX-Request") == "true", **context}
    )
    # Pages differ by whether htmx asked for the fragment only.
    return HTMLResponse(body, status_code=status_code, headers={"Vary": "HX-Request"})


def error_page(request: Request, status_code: int, detail: str | None = None) -> HTMLResponse:
    title, message = ERROR_TEXT.get(status_code, ERROR_TEXT[500] if status_code >= 500 else ERROR_TEXT[422])
    return render(
        request,
        "error.html",
        {"status": status_code, "title": title, "message": message, "detail": detail, "q": ""},
        status_code=status_code,
    )


def _validation_detail(exc: RequestValidationError) -> str:
    fields = {
        "q": "检索词",
        "page": "页码",
        "department": "实施部门",
        "level": "行使层级",
        "theme": "主题",
        "object": "服务对象",
        "item_code": "事项编码",
    }
    names = []
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ()) if p not in ("query", "path")]
        names.append(fields.get(loc[0], loc[0]) if loc else "请求")
    return "请检查：" + "、".join(dict.fromkeys(names))


class PageRoute(APIRoute):
    """A route that answers every failure with a friendly zh-CN page instead of problem+json."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Problem as exc:
                return error_page(request, exc.status, exc.detail)
            except RequestValidationError as exc:
                return error_page(request, 422, _validation_detail(exc))
            except StarletteHTTPException as exc:
                return error_page(request, exc.status_code)
            except Exception:
                log.exception("page failed", extra={"path": request.url.path})
                return error_page(request, 500)

        return page_handler


class SecurityHeadersMiddleware:
    """Adds CSP and the other hardening headers to pages and their static assets."""

    def __init__(self, app: ASGIApp, form_origins: tuple[str, ...] = ()) -> None:
        self.app = app
        self.headers = SECURITY_HEADERS
        if form_origins:
            # A form whose answer redirects to another platform (统分: the province's sign-in back
            # to a city portal, a city's sign-out through the province) needs that origin too:
            # browsers apply form-action to every redirect after the submission.
            policy = CONTENT_SECURITY_POLICY.replace(
                "form-action 'self'", "form-action 'self' " + " ".join(form_origins)
            )
            self.headers = (("Content-Security-Policy", policy), *SECURITY_HEADERS[1:])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_page_path(scope.get("path", "")):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_pages(app: FastAPI, router: Any, *, form_origins: tuple[str, ...] = ()) -> None:
    """Mount the pages, their static files, their error pages and their headers on ``app``.

    ``form_origins``: other origins a form's answer may redirect to (``form-action``).
    """
    app.include_router(router)
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="static")
    api_http_handler = app.exception_handlers[StarletteHTTPException]

    async def on_http(request: Request, exc: Exception) -> Response:
        # Unknown paths never reach a PageRoute; outside the API they get the 404 page too.
        assert isinstance(exc, StarletteHTTPException)
        if is_page_path(request.url.path) and not request.url.path.startswith(STATIC_PREFIX + "/"):
            return error_page(request, exc.status_code)
        response = api_http_handler(request, exc)
        return await response if inspect.isawaitable(response) else response

    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_middleware(SecurityHeadersMiddleware, form_origins=form_origins)
