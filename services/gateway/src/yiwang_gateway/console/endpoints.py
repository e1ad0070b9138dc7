"""Pages: ``/console/sign-in`` and ``/console/sign-out`` — the one staff sign-in (ADR 0016, 0103).

The gateway issues tokens, so the sign-in page is its own: the form posts here, the same
throttled password check as ``POST /api/v1/auth/token`` runs (``IdentityService``), and the
session's access token goes into the ``yiwang_staff`` cookie that every console page of the staff
origin verifies, its refresh token into a cookie only this page receives. A console page whose
access token has expired sends the browser here with ``next``; a live refresh token then gives a
new pair and the browser goes straight back, without the password.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from yiwang_common.http.problems import Problem
from yiwang_common.staff_session import NEXT_FIELD, same_origin
from yiwang_gateway.account.errors import InvalidCredentials, LoginThrottled
from yiwang_gateway.account.throttle import client_address
from yiwang_gateway.config import Settings
from yiwang_gateway.dependencies import GUARDS, SessionDep
from yiwang_gateway.identity.cookies import STAFF, clear_session, cookie_principal, safe_next, set_session
from yiwang_gateway.identity.errors import StaffOnly
from yiwang_gateway.identity.service import CLIENT_CONSOLE, IdentityService
from yiwang_gateway.web.rendering import CONTENT_SECURITY_POLICY, PageRoute, render

router = APIRouter(
    prefix="/console", tags=["pages"], dependencies=GUARDS, route_class=PageRoute, include_in_schema=False
)
NextQuery = Annotated[str | None, Query(alias=NEXT_FIELD, max_length=2000)]


def _console_origin(settings: Settings) -> str:
    target = urlsplit(settings.console_manage_url)
    return f"{target.scheme}://{target.netloc}"


def _console_origins(settings: Settings) -> tuple[str, ...]:
    """Both console halves (management's, business's); one origin behind the Ingress."""
    handle = urlsplit(settings.console_handle_url)
    return tuple(dict.fromkeys((_console_origin(settings), f"{handle.scheme}://{handle.netloc}")))


def _next(request: Request, value: str | None) -> str:
    settings: Settings = request.app.state.settings
    return safe_next(value, origins=_console_origins(settings), default=settings.console_manage_url)


def _form(
    request: Request, *, username: str = "", error: str = "", next_url: str = "", status_code: int = 200
) -> HTMLResponse:
    response = render(
        request,
        "console_sign_in.html",
        {"username": username, "error": error, "q": "", "next": next_url},
        status_code=status_code,
    )
    # The form's answer redirects to the console; under `make dev` that is another port, which
    # form-action 'self' alone would block (one origin behind the Ingress, where it is 'self').
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
        "form-action 'self'", "form-action 'self' " + " ".join(_console_origins(request.app.state.settings))
    )
    return response


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_page(request: Request, session: SessionDep, next_url: NextQuery = None) -> Response:
    """工作人员登录 The form; sent back from a console page (``next``), a live session refreshes."""
    refresh = request.cookies.get(STAFF.refresh, "")
    if next_url is not None and refresh:
        identity: IdentityService = request.app.state.identity
        try:
            pair = await identity.refresh(session, request.app.state.sessionmaker, refresh_token=refresh)
        except Problem:
            response: Response = _form(request, next_url=next_url)
            clear_session(response, request, STAFF)
            return response
        if pair.principal.is_staff:
            response = RedirectResponse(_next(request, next_url), status_code=303)
            set_session(response, request, pair, STAFF)
            return response
    return _form(request, next_url=next_url or "")


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=128)],
    next_url: Annotated[str, Form(alias=NEXT_FIELD, max_length=2000)] = "",
) -> Response:
    """Check the credentials, set the staff cookies, go to the console (or back to ``next``)."""
    # No session exists yet, so SameSite cannot guard this form: a foreign Origin is refused
    # (login CSRF would sign the victim in as the attacker).
    if not same_origin(request.headers.get("origin"), request.url.scheme, request.url.netloc):
        return _form(
            request, username=username, error="请从本站登录页面登录。", next_url=next_url, status_code=403
        )
    settings: Settings = request.app.state.settings
    identity: IdentityService = request.app.state.identity
    try:
        pair = await identity.sign_in_password(
            session,
            request.app.state.sessionmaker,
            username=username,
            password=password,
            address=client_address(request, settings.login),
            client=CLIENT_CONSOLE,
            staff_only=True,
        )
    except LoginThrottled:
        return _form(
            request,
            username=username,
            error="登录失败次数过多，请稍后再试。",
            next_url=next_url,
            status_code=429,
        )
    except InvalidCredentials:
        return _form(
            request, username=username, error="用户名或密码错误。", next_url=next_url, status_code=401
        )
    except StaffOnly:
        return _form(request, username=username, error="此入口仅供政务服务工作人员使用。", status_code=403)
    response = RedirectResponse(_next(request, next_url), status_code=303)
    set_session(response, request, pair, STAFF)
    return response


@router.post("/sign-out")
async def sign_out(request: Request, session: SessionDep) -> Response:
    """退出登录 End the session (its refresh tokens die now) and drop both cookies.

    The session is named by the access token's ``sid`` (the refresh cookie is only sent to the
    sign-in page); a foreign Origin ends nothing, SameSite=Strict keeps the cookie from it anyway.
    """
    if same_origin(request.headers.get("origin"), request.url.scheme, request.url.netloc):
        principal = await cookie_principal(request, STAFF)
        if principal is not None:
            identity: IdentityService = request.app.state.identity
            await identity.sign_out(session, principal, everywhere=False)
    response = RedirectResponse("/console/sign-in", status_code=303)
    clear_session(response, request, STAFF)
    return response
