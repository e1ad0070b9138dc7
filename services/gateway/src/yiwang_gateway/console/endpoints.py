"""Pages: ``/console/sign-in`` and ``/console/sign-out`` — the one staff sign-in (ADR 0016).

The gateway issues tokens, so the sign-in page is its own: the form posts here, the same
throttle and password check as ``POST /api/v1/auth/token`` run, and the staff token goes into
the ``yiwang_staff`` cookie that every console page of the staff origin verifies.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from yiwang_common.auth import TokenIssuer
from yiwang_common.staff_session import COOKIE_NAME, COOKIE_PATH, same_origin
from yiwang_gateway.account.errors import InvalidCredentials, LoginThrottled
from yiwang_gateway.account.service import account_service
from yiwang_gateway.account.throttle import LoginThrottle, client_address
from yiwang_gateway.config import Settings
from yiwang_gateway.dependencies import GUARDS, SessionDep
from yiwang_gateway.web.rendering import CONTENT_SECURITY_POLICY, PageRoute, render

router = APIRouter(
    prefix="/console", tags=["pages"], dependencies=GUARDS, route_class=PageRoute, include_in_schema=False
)


def _form(request: Request, *, username: str = "", error: str = "", status_code: int = 200) -> HTMLResponse:
    response = render(
        request,
        "console_sign_in.html",
        {"username": username, "error": error, "q": ""},
        status_code=status_code,
    )
    # The form's answer redirects to the console; under `make dev` that is another port, which
    # form-action 'self' alone would block (one origin behind the Ingress, where it is 'self').
    target = urlsplit(request.app.state.settings.console_manage_url)
    origin = f"{target.scheme}://{target.netloc}"
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
        "form-action 'self'", f"form-action 'self' {origin}"
    )
    return response


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_page(request: Request) -> HTMLResponse:
    """工作人员登录 The form."""
    return _form(request)


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=128)],
) -> Response:
    """Check the credentials, set the staff cookie, go to the console."""
    # No session exists yet, so SameSite cannot guard this form: a foreign Origin is refused
    # (login CSRF would sign the victim in as the attacker).
    if not same_origin(request.headers.get("origin"), request.url.scheme, request.url.netloc):
        return _form(request, username=username, error="请从本站登录页面登录。", status_code=403)
    settings: Settings = request.app.state.settings
    throttle = LoginThrottle(
        settings.login, username=username, address=client_address(request, settings.login)
    )
    try:
        await throttle.check(session)
    except LoginThrottled:
        return _form(request, username=username, error="登录失败次数过多，请稍后再试。", status_code=429)
    try:
        account = await account_service.authenticate(session, username=username, password=password)
    except InvalidCredentials:
        await throttle.failed(request.app.state.sessionmaker)
        return _form(request, username=username, error="用户名或密码错误。", status_code=401)
    await throttle.succeeded(session)
    principal = account_service.principal(account)
    if principal.kind != "staff":
        return _form(request, username=username, error="此入口仅供政务服务工作人员使用。", status_code=403)
    ttl = settings.auth.token_ttl_seconds
    issuer: TokenIssuer = request.app.state.token_issuer
    response = RedirectResponse(settings.console_manage_url, status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        issuer.issue(principal, ttl_seconds=ttl),
        max_age=ttl,
        path=COOKIE_PATH,
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="strict",
    )
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    """退出登录 Drop the cookie (the token itself expires on its own)."""
    response = RedirectResponse("/console/sign-in", status_code=303)
    response.delete_cookie(
        COOKIE_NAME, path=COOKIE_PATH, secure=request.url.scheme == "https", httponly=True, samesite="strict"
    )
    return response
