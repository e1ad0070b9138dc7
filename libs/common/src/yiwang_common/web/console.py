"""The staff consoles' shared web layer: templates, CSRF-checked forms, security headers, error pages.

Management's ``/console/manage`` and business's ``/console/handle`` (ADR 0016, 0021, 0115) render
the same way; each service keeps its own templates, routes and wording and builds one
:class:`Console` with its prefix and template directory. The shared layout (``console/base.html``),
the stylesheet ``console-base.css``, the favicon and the vendored htmx live here and are served
under the service's static prefix after its own assets (a service's file of the same name wins).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yiwang_common.auth import STAFF_ROLES, Principal, TokenVerifier
from yiwang_common.http import Forbidden, Unauthorized
from yiwang_common.http.problems import Problem
from yiwang_common.staff_session import COOKIE_NAME, NEXT_FIELD, csrf_matches, csrf_token, same_origin

log = logging.getLogger(__name__)

#: The shared assets and templates of every console.
COMMON_STATIC_DIR = Path(__file__).parent / "static"
COMMON_TEMPLATE_DIR = Path(__file__).parent / "templates"

#: Titles and texts of the error pages every console shows; a service overrides some (404, 409).
ERROR_TEXT: dict[int, tuple[str, str]] = {
    400: ("请求无效", "页面已过期或请求来源不明，请返回重新操作。"),
    403: ("无权操作", "您的账号无权进行此操作。"),
    404: ("页面不存在", "您要找的页面不存在。"),
    409: ("状态已变化", "状态不允许此操作，请刷新后重试。"),
    413: ("文件过大", "上传的文件超过允许的大小。"),
    422: ("输入有误", "您填写的内容无法处理，请检查后重新提交。"),
    500: ("系统繁忙", "服务器暂时无法完成您的请求，请稍后再试。我们已记录此问题。"),
}


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


def _asset_version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "dev"


class SignInRequired(Exception):
    """No valid staff cookie: the page answers with a redirect to the one sign-in."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


class FormRejected(Problem):
    """A POST without this session's form token or from another origin (CSRF)."""

    status = 400
    code = "form_rejected"
    title = "表单已过期或来源不明"


def check_form(request: Request, submitted: str) -> None:
    """Refuse a POST that did not come from a page of this session (token bound to the cookie, origin)."""
    token = request.cookies.get(COOKIE_NAME, "")
    origin_ok = same_origin(request.headers.get("origin"), request.url.scheme, request.url.netloc)
    if not (origin_ok and token and csrf_matches(token, submitted)):
        raise FormRejected("表单已过期或来源不明，请刷新页面后重新提交")


async def signed_in(request: Request) -> Principal:
    """The staff member of the session cookie, or a redirect to the one sign-in.

    Reads ``app.state.settings.console_sign_in_url`` and ``app.state.token_verifier``.
    """
    sign_in = request.app.state.settings.console_sign_in_url
    if request.method == "GET":
        # The sign-in page refreshes an expired access token silently and comes back here.
        sign_in += "?" + urlencode({NEXT_FIELD: str(request.url)})
    token = request.cookies.get(COOKIE_NAME, "")
    if not token:
        raise SignInRequired(sign_in)
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        principal = await verifier.averify(token)
    except Unauthorized as exc:
        raise SignInRequired(sign_in) from exc
    if principal.kind != "staff" or not principal.roles & STAFF_ROLES:
        raise Forbidden("此工作台仅供政务服务工作人员使用")
    request.state.staff = principal
    request.state.csrf = csrf_token(token)
    return principal


#: The dependency of every signed-in console page.
Staff = Annotated[Principal, Depends(signed_in)]


class SecurityHeadersMiddleware:
    """CSP and the other hardening headers on every console page and asset under ``prefix``."""

    def __init__(self, app: ASGIApp, *, csp: str, prefix: str) -> None:
        self.app = app
        self.prefix = prefix
        self.headers = (
            ("Content-Security-Policy", csp),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "same-origin"),
            ("X-Frame-Options", "DENY"),
            ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefix):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Console:
    """One service's console: its prefix, its templates (then the shared ones) and its assets."""

    def __init__(
        self,
        *,
        prefix: str,
        template_dir: Path,
        static_dir: Path,
        distribution: str,
        error_text: Mapping[int, tuple[str, str]] | None = None,
    ) -> None:
        self.prefix = prefix
        self.static_prefix = prefix + "/static"
        self.static_dir = static_dir
        self.error_text = {**ERROR_TEXT, **(error_text or {})}
        self.templates = Environment(
            loader=ChoiceLoader([FileSystemLoader(template_dir), FileSystemLoader(COMMON_TEMPLATE_DIR)]),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        asset_version = _asset_version(distribution)
        static_prefix = self.static_prefix
        self.templates.globals["static"] = lambda path: f"{static_prefix}/{path}?v={asset_version}"
        self.templates.globals["prefix"] = prefix
        self.page_route = self._page_route_class()

    def render(
        self, request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
    ) -> HTMLResponse:
        """Render a page; templates see ``request``, the signed-in staff and their CSRF token (if any)."""
        body = self.templates.get_template(template).render(
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

    def error_page(self, request: Request, status_code: int, detail: str | None = None) -> HTMLResponse:
        """The zh-CN error page of a status (``error.html`` of the service)."""
        texts = self.error_text
        title, message = texts.get(status_code, texts[500] if status_code >= 500 else texts[422])
        return self.render(
            request,
            "error.html",
            {"status": status_code, "title": title, "message": message, "detail": detail},
            status_code=status_code,
        )

    def _page_route_class(self) -> type[APIRoute]:
        error_page = self.error_page

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
                        detail = exc.detail if exc.status_code < 500 else None
                        return error_page(request, exc.status_code, detail)
                    except Exception:
                        log.exception("console page failed", extra={"path": request.url.path})
                        return error_page(request, 500)

                return page_handler

        return PageRoute

    def install(self, app: FastAPI, router: Any, *, sign_in_origin: str) -> None:
        """Mount the console pages, their assets (the service's, then the shared) and their headers."""
        app.include_router(router)
        # The shared assets after the service's own: StaticFiles looks in each directory in turn.
        static = StaticFiles(directory=self.static_dir, packages=[("yiwang_common.web", "static")])
        app.mount(self.static_prefix, static, name="console-static")
        app.add_middleware(
            SecurityHeadersMiddleware, csp=content_security_policy(sign_in_origin), prefix=self.prefix
        )
