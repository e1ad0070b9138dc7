"""Pages: ``/sign-in`` (password and SMS-code tabs), ``/sign-out`` — the citizens' sign-in —
and ``/me/password`` (修改密码).

统分, at a city portal, the sign-in page offers the province's sign-in only (the accounts are
there) and the local forms' routes answer 409; 分建, the SMS tab says that it serves this
platform's own accounts (a peer's citizen signs in with the password, checked at home).

Plain HTML forms, so both tabs work without JavaScript: the tabs are links, the SMS form has a
second submit button (``formaction``) that sends the code. The checks are the API's
(``IdentityService``: throttling, lockout, single-use codes); the session goes into two HttpOnly
cookies (``identity.cookies.PORTAL``). Pages that need a signed-in citizen call
``identity.cookies.portal_principal`` and link to ``/sign-in?next=<their path>``.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import Principal
from yiwang_common.http.problems import Problem
from yiwang_common.staff_session import CSRF_FIELD, NEXT_FIELD, csrf_matches, csrf_token, same_origin
from yiwang_gateway.account.errors import InvalidCredentials, LoginThrottled
from yiwang_gateway.account.throttle import client_address
from yiwang_gateway.config import Settings
from yiwang_gateway.dependencies import GUARDS, SessionDep
from yiwang_gateway.identity.cookies import (
    PORTAL,
    clear_session,
    cookie_principal,
    portal_principal,
    safe_next,
    set_session,
)
from yiwang_gateway.identity.errors import InvalidSmsCode, SmsThrottled
from yiwang_gateway.identity.schemas import PHONE_PATTERN
from yiwang_gateway.identity.service import CLIENT_PORTAL, IdentityService
from yiwang_gateway.web.rendering import PageRoute, render

router = APIRouter(tags=["pages"], dependencies=GUARDS, route_class=PageRoute, include_in_schema=False)

Method = Literal["password", "sms"]
NextForm = Annotated[str, Form(alias=NEXT_FIELD, max_length=2000)]
_PHONE = re.compile(PHONE_PATTERN)
_CODE = re.compile(r"^\d{4,8}$")
CITIZEN_KINDS = ("natural_person", "legal_person")


def _page(
    request: Request,
    *,
    method: Method = "password",
    next_url: str = "",
    error: str = "",
    notice: str = "",
    username: str = "",
    phone: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "sign_in.html",
        {
            "q": "",
            "method": method,
            "next": next_url,
            "error": error,
            "notice": notice,
            "username": username,
            "phone": phone,
            "signed_in": None,
            "csrf": "",
            "delegated": _delegated(request),
            "sms_hint": request.app.state.federation.sms_hint(),
        },
        status_code=status_code,
    )


#: 统分, a city: what a local citizen sign-in form posted anyway (an old page, a script) gets.
AT_PROVINCE = "本平台的个人和法人账户由{name}统一管理，不能在本平台使用密码或短信验证码登录。请通过{name}统一身份认证登录；工作人员请从工作人员登录入口进入。"


def _at_province(request: Request, next_url: str) -> HTMLResponse | None:
    """统分, a city: the refusal page of the local citizen sign-in forms (409, like the API), else None."""
    name = _delegated(request)
    if not name:
        return None
    return _page(request, next_url=next_url, error=AT_PROVINCE.format(name=name), status_code=409)


def _delegated(request: Request) -> str:
    """统分: the name of the province this city portal delegates to, else empty."""
    upstream = request.app.state.settings.federation.upstream
    mode = request.app.state.settings.platform.deployment_mode
    return str(upstream.name) if upstream is not None and mode == "semi_unified" else ""


def _identity(request: Request) -> IdentityService:
    identity: IdentityService = request.app.state.identity
    return identity


def _foreign(request: Request) -> bool:
    # Login CSRF: no session exists yet, so only the Origin tells a foreign form apart.
    return not same_origin(request.headers.get("origin"), request.url.scheme, request.url.netloc)


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_page(
    request: Request,
    session: SessionDep,
    method: Annotated[Method, Query()] = "password",
    next_url: Annotated[str, Query(alias=NEXT_FIELD, max_length=2000)] = "",
) -> Response:
    """登录 The page; signed in, it says so; with a live refresh cookie it renews the session."""
    principal = await cookie_principal(request, PORTAL)
    if principal is not None:
        token = request.cookies.get(PORTAL.access, "")
        return render(
            request,
            "sign_in.html",
            {
                "q": "",
                "method": method,
                "next": next_url,
                "error": "",
                "notice": "",
                "username": "",
                "phone": "",
                "signed_in": principal,
                "csrf": csrf_token(token),
                "delegated": "",
                "sms_hint": "",
            },
        )
    refresh = request.cookies.get(PORTAL.refresh, "")
    if refresh:
        try:
            pair = await _identity(request).refresh(
                session, request.app.state.sessionmaker, refresh_token=refresh
            )
        except Problem:
            response: Response = _page(request, method=method, next_url=next_url)
            clear_session(response, request, PORTAL)
            return response
        response = RedirectResponse(safe_next(next_url, default="/sign-in"), status_code=303)
        set_session(response, request, pair, PORTAL)
        return response
    return _page(request, method=method, next_url=next_url)


@router.post("/sign-in/password", response_class=HTMLResponse)
async def sign_in_password(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=128)] = "",
    next_url: NextForm = "",
) -> Response:
    """Check the password; signed in, go to ``next`` (a path of this site) or the home page."""
    if (refused := _at_province(request, next_url)) is not None:
        return refused
    if _foreign(request):
        return _page(
            request, username=username, next_url=next_url, error="请从本站登录页面登录。", status_code=403
        )
    if not username.strip() or not password:
        return _page(
            request, username=username, next_url=next_url, error="请输入用户名和密码。", status_code=422
        )
    settings: Settings = request.app.state.settings
    try:
        # 分建: a name not known here is checked at the other levels' platforms (ADR 0114).
        pair = await request.app.state.federation.sign_in_password(
            session,
            request.app.state.sessionmaker,
            username=username.strip(),
            password=password,
            address=client_address(request, settings.login),
            client=CLIENT_PORTAL,
        )
    except LoginThrottled as exc:
        return _page(request, username=username, next_url=next_url, error=_throttled(exc), status_code=429)
    except InvalidCredentials:
        return _page(
            request, username=username, next_url=next_url, error="用户名或密码错误。", status_code=401
        )
    response = RedirectResponse(safe_next(next_url, default="/sign-in"), status_code=303)
    set_session(response, request, pair, PORTAL)
    return response


def _throttled(exc: Problem) -> str:
    seconds = exc.headers.get("Retry-After", "")
    return f"尝试次数过多，请 {seconds} 秒后再试。" if seconds else "尝试次数过多，请稍后再试。"


@router.post("/sign-in/sms/code", response_class=HTMLResponse)
async def send_sms_code(
    request: Request,
    session: SessionDep,
    phone: Annotated[str, Form(max_length=32)] = "",
    next_url: NextForm = "",
) -> Response:
    """Send the code; the page comes back with the number filled in and a notice."""
    if (refused := _at_province(request, next_url)) is not None:
        return refused
    phone = phone.strip()
    if _foreign(request):
        return _page(
            request,
            method="sms",
            phone=phone,
            next_url=next_url,
            error="请从本站登录页面登录。",
            status_code=403,
        )
    if not _PHONE.fullmatch(phone):
        return _page(
            request,
            method="sms",
            phone=phone,
            next_url=next_url,
            error="请输入正确的 11 位手机号码。",
            status_code=422,
        )
    settings: Settings = request.app.state.settings
    try:
        expires_in, _ = await _identity(request).send_sms_code(
            session, phone=phone, address=client_address(request, settings.login)
        )
    except (SmsThrottled, LoginThrottled) as exc:
        return _page(
            request, method="sms", phone=phone, next_url=next_url, error=_throttled(exc), status_code=429
        )
    return _page(
        request,
        method="sms",
        phone=phone,
        next_url=next_url,
        notice=f"验证码已发送至 {phone[:3]}****{phone[-4:]}，{max(1, expires_in // 60)} 分钟内有效。",
    )


@router.post("/sign-in/sms", response_class=HTMLResponse)
async def sign_in_sms(
    request: Request,
    session: SessionDep,
    phone: Annotated[str, Form(max_length=32)] = "",
    code: Annotated[str, Form(max_length=16)] = "",
    next_url: NextForm = "",
) -> Response:
    """Check the code; signed in, go to ``next`` or the home page."""
    if (refused := _at_province(request, next_url)) is not None:
        return refused
    phone, code = phone.strip(), code.strip()
    if _foreign(request):
        return _page(
            request,
            method="sms",
            phone=phone,
            next_url=next_url,
            error="请从本站登录页面登录。",
            status_code=403,
        )
    if not _PHONE.fullmatch(phone) or not _CODE.fullmatch(code):
        return _page(
            request,
            method="sms",
            phone=phone,
            next_url=next_url,
            error="请输入手机号码和短信验证码。",
            status_code=422,
        )
    settings: Settings = request.app.state.settings
    try:
        pair = await _identity(request).sign_in_sms(
            session,
            request.app.state.sessionmaker,
            phone=phone,
            code=code,
            address=client_address(request, settings.login),
            client=CLIENT_PORTAL,
        )
    except LoginThrottled as exc:
        return _page(
            request, method="sms", phone=phone, next_url=next_url, error=_throttled(exc), status_code=429
        )
    except InvalidSmsCode:
        return _page(
            request,
            method="sms",
            phone=phone,
            next_url=next_url,
            # 分建: a peer's citizen has no number here; the hint says what works instead.
            error="验证码错误或已失效。" + request.app.state.federation.sms_hint(),
            status_code=401,
        )
    response = RedirectResponse(safe_next(next_url, default="/sign-in"), status_code=303)
    set_session(response, request, pair, PORTAL)
    return response


@router.post("/sign-out")
async def sign_out(
    request: Request, session: SessionDep, csrf: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = ""
) -> Response:
    """退出登录 End the session (its refresh tokens die now) and drop both cookies.

    统分, at a city: then the browser goes to the province's ``end_session_endpoint`` with the ID
    token of this sign-in, so the province session it came from ends too (RP-initiated logout,
    ADR 0116), and the province sends it back here.
    """
    token = request.cookies.get(PORTAL.access, "")
    principal = await cookie_principal(request, PORTAL)
    location = "/sign-in"
    if principal is not None and not _foreign(request) and csrf_matches(token, csrf):
        await _identity(request).sign_out(session, principal, everywhere=False)
        upstream = await request.app.state.logout.upstream_logout_url(session, principal.session_id)
        location = upstream or location
    response = RedirectResponse(location, status_code=303)
    clear_session(response, request, PORTAL)
    return response


# --- 修改密码 ---------------------------------------------------------------------------------


def _password_page(
    request: Request,
    principal: Principal,
    *,
    home: tuple[str, str] | None,
    error: str = "",
    done: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "password.html",
        {
            "q": "",
            "name": principal.name,
            "home_name": home[0] if home else "",
            "home_url": home[1] if home else "",
            "error": error,
            "done": done,
            "csrf": csrf_token(request.cookies.get(PORTAL.access, "")),
        },
        status_code=status_code,
    )


async def _password_principal(request: Request) -> Principal | None:
    principal = await portal_principal(request)
    return principal if principal is not None and principal.kind in CITIZEN_KINDS else None


def _account_id(principal: Principal) -> uuid.UUID | None:
    try:
        return uuid.UUID(principal.sub)
    except ValueError:
        return None


async def _home(request: Request, session: AsyncSession, principal: Principal) -> tuple[str, str] | None:
    account_id = _account_id(principal)
    if account_id is None:
        return None
    home: tuple[str, str] | None = await request.app.state.federation.home_platform(session, account_id)
    return home


@router.get("/me/password", response_class=HTMLResponse)
async def password_page(request: Request, session: SessionDep) -> Response:
    """修改密码 The form; for an account whose password another platform holds (统分 at a city,
    分建 a recognised citizen), where to change it instead."""
    principal = await _password_principal(request)
    if principal is None:
        return RedirectResponse("/sign-in?" + urlencode({NEXT_FIELD: "/me/password"}), status_code=303)
    return _password_page(request, principal, home=await _home(request, session, principal))


@router.post("/me/password", response_class=HTMLResponse)
async def change_password(
    request: Request,
    session: SessionDep,
    current_password: Annotated[str, Form(max_length=128)] = "",
    new_password: Annotated[str, Form(max_length=128)] = "",
    csrf: Annotated[str, Form(alias=CSRF_FIELD, max_length=128)] = "",
) -> Response:
    """Change the password (every session ends, this one too); linked accounts are sent home (409)."""
    principal = await _password_principal(request)
    if principal is None:
        return RedirectResponse("/sign-in?" + urlencode({NEXT_FIELD: "/me/password"}), status_code=303)
    home = await _home(request, session, principal)
    if home is not None:
        return _password_page(
            request, principal, home=home, error=f"请在{home[0]}修改密码。", status_code=409
        )
    token = request.cookies.get(PORTAL.access, "")
    if _foreign(request) or not csrf_matches(token, csrf):
        return _password_page(request, principal, home=None, error="请从本站页面提交。", status_code=403)
    if not current_password or len(new_password) < 8:
        return _password_page(
            request, principal, home=None, error="请输入原密码和至少 8 位的新密码。", status_code=422
        )
    settings: Settings = request.app.state.settings
    try:
        await _identity(request).change_password(
            session,
            request.app.state.sessionmaker,
            principal,
            current_password=current_password,
            new_password=new_password,
            address=client_address(request, settings.login),
        )
    except Problem as exc:
        return _password_page(
            request, principal, home=None, error=exc.detail or exc.title, status_code=exc.status
        )
    response: Response = _password_page(request, principal, home=None, done=True)
    clear_session(response, request, PORTAL)
    return response
