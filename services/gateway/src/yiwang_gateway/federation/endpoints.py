"""Routes of delegated sign-in (统分, ADR 0114): the province's ``/authorize`` and a city's
``/sign-in/oidc`` (start) and ``/sign-in/oidc/callback``; and of single logout (ADR 0116): the
province's ``/end-session`` (RP-initiated logout) and every receiver's
``POST /api/v1/auth/backchannel-logout``.

They are browser redirects, not JSON: outside ``/api/v1`` and outside the OpenAPI document, like
the sign-in pages; the discovery document names ``/authorize``. The token half of the flow is
``POST /api/v1/auth/token`` with ``grant_type=authorization_code``.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from yiwang_common.http import problem_responses
from yiwang_common.http.problems import Problem
from yiwang_common.staff_session import NEXT_FIELD
from yiwang_gateway.account.throttle import client_address
from yiwang_gateway.config import Settings
from yiwang_gateway.dependencies import GUARDS, SessionDep
from yiwang_gateway.federation.errors import (
    InvalidAuthorizationRequest,
    LogoutTokenRefused,
    RegisterAtProvince,
)
from yiwang_gateway.federation.logout import SingleLogout
from yiwang_gateway.federation.service import FederationService
from yiwang_gateway.identity.cookies import PORTAL, clear_session, portal_principal, safe_next, set_session
from yiwang_gateway.identity.schemas import SignedOut
from yiwang_gateway.web.rendering import PageRoute

router = APIRouter(tags=["pages"], dependencies=GUARDS, route_class=PageRoute, include_in_schema=False)
#: Under ``/api/v1``: the back channel between platforms.
api_router = APIRouter(tags=["identity"], dependencies=GUARDS)

#: The browser's half of the state (against login CSRF): only the browser that started a
#: delegated sign-in can finish it.
STATE_COOKIE = "yiwang_oidc_state"
STATE_PATH = "/sign-in/oidc"
Param = Annotated[str, Query(max_length=2000)]


async def accounts_live_here(request: Request) -> None:
    """Dependency of sign-up: under 统分 a city portal registers nobody (accounts live at the province).

    Raises:
        RegisterAtProvince: this platform delegates sign-in to the province.
    """
    if _federation(request).upstream is not None:
        raise RegisterAtProvince(
            "请在省级平台注册，并在本平台使用省级统一身份认证登录 (register at the province; sign in through it)"
        )


def _federation(request: Request) -> FederationService:
    federation: FederationService = request.app.state.federation
    return federation


@router.get("/authorize")
async def authorize(
    request: Request,
    session: SessionDep,
    client_id: Annotated[str, Query(max_length=64)] = "",
    redirect_uri: Param = "",
    response_type: Annotated[str, Query(max_length=32)] = "",
    scope: Annotated[str, Query(max_length=200)] = "",
    state: Annotated[str, Query(max_length=256)] = "",
    nonce: Annotated[str, Query(max_length=128)] = "",
    code_challenge: Annotated[str, Query(max_length=128)] = "",
    code_challenge_method: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    """授权 OpenID Connect authorization endpoint (code flow, PKCE S256) for registered city portals.

    An unknown client or an unregistered ``redirect_uri`` is answered here (400); other errors go
    back to the client's ``redirect_uri`` with ``error`` and ``state``. Not signed in, the
    browser goes to ``/sign-in`` and comes back.
    """
    federation = _federation(request)
    client = federation.client(client_id, redirect_uri)
    try:
        federation.check_request(
            response_type=response_type,
            scope=scope,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            state=state,
            nonce=nonce,
        )
    except InvalidAuthorizationRequest as exc:
        error = urlencode({"error": "invalid_request", "error_description": exc.detail or "", "state": state})
        return RedirectResponse(f"{redirect_uri}?{error}", status_code=303)
    principal = await portal_principal(request)
    if principal is None or principal.kind not in ("natural_person", "legal_person"):
        back = request.url.path + "?" + request.url.query
        return RedirectResponse("/sign-in?" + urlencode({NEXT_FIELD: back}), status_code=303)
    code = await federation.issue_code(
        session,
        principal,
        client=client,
        redirect_uri=redirect_uri,
        code_challenge=code_challenge,
        nonce=nonce,
    )
    return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}", status_code=303)


@router.get("/sign-in/oidc")
async def start_delegated(
    request: Request,
    session: SessionDep,
    next_url: Annotated[str, Query(alias=NEXT_FIELD, max_length=2000)] = "",
) -> Response:
    """省统一身份认证登录 Send the browser to the province's sign-in (统分)."""
    location, state = await _federation(request).start_delegated(
        session, next_url=safe_next(next_url, default="/me")
    )
    response = RedirectResponse(location, status_code=303)
    response.set_cookie(
        STATE_COOKIE,
        state,
        max_age=request.app.state.settings.federation.login_ttl_seconds,
        path=STATE_PATH,
        httponly=True,
        secure=request.url.scheme == "https",
        # Lax: the province's redirect back is a top-level GET from another site.
        samesite="lax",
    )
    return response


@router.get("/sign-in/oidc/callback")
async def finish_delegated(
    request: Request,
    session: SessionDep,
    code: Annotated[str, Query(max_length=256)] = "",
    state: Annotated[str, Query(max_length=256)] = "",
    error: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The province sends the browser back here with a code; sign in locally and go on."""
    if error or not code:
        raise _CallbackError(f"省级平台未完成登录 (the provider answered {error or 'no code'})")
    settings: Settings = request.app.state.settings
    pair, next_url = await _federation(request).finish_delegated(
        session,
        code=code,
        state=state,
        cookie_state=request.cookies.get(STATE_COOKIE, ""),
        address=client_address(request, settings.login),
    )
    response = RedirectResponse(safe_next(next_url, default="/me"), status_code=303)
    set_session(response, request, pair, PORTAL)
    response.delete_cookie(STATE_COOKIE, path=STATE_PATH)
    return response


def _logout(request: Request) -> SingleLogout:
    logout: SingleLogout = request.app.state.logout
    return logout


@router.get("/end-session")
async def end_session(
    request: Request,
    session: SessionDep,
    id_token_hint: Annotated[str, Query(max_length=8192)] = "",
    client_id: Annotated[str, Query(max_length=64)] = "",
    post_logout_redirect_uri: Param = "",
    state: Annotated[str, Query(max_length=256)] = "",
) -> Response:
    """退出统一身份认证 RP-initiated logout (统分): a city portal sends the browser here after its sign-out.

    With the ID token it was given (``id_token_hint``) the province ends the session it names
    and tells the other portals signed in from it (back channel), drops its cookies, and sends
    the browser to the registered ``post_logout_redirect_uri`` (with ``state``), else to its
    sign-in page. Without a hint nothing ends here: the sign-in page shows whoever is signed in,
    with the sign-out button (the confirmation the specification asks for).
    """
    if not id_token_hint:
        return RedirectResponse("/sign-in", status_code=303)
    redirect, _ = await _logout(request).end_session(
        session,
        id_token_hint=id_token_hint,
        client_id=client_id,
        post_logout_redirect_uri=post_logout_redirect_uri,
        state=state,
    )
    response = RedirectResponse(redirect or "/sign-in", status_code=303)
    clear_session(response, request, PORTAL)
    return response


#: Back-channel logout answers must not be cached (OpenID Connect Back-Channel Logout 1.0 §2.8).
NO_STORE = {"Cache-Control": "no-store"}


@api_router.post(
    "/auth/backchannel-logout",
    summary="跨平台退出登录 Back-channel logout (OpenID Connect Back-Channel Logout 1.0)",
    response_model=SignedOut,
    responses=problem_responses(LogoutTokenRefused),
)
async def backchannel_logout(
    request: Request, session: SessionDep, logout_token: Annotated[str, Form(max_length=8192)]
) -> JSONResponse:
    """The province (统分) or a peer (分建) tells this platform that a sign-in has ended.

    ``logout_token`` (form field) is a JWT signed by that platform (``typ: logout+jwt``, its
    keys from its JWKS): ``aud`` this platform's ``client_id`` there (or, between peers, this
    platform's issuer), ``events`` with ``http://schemas.openid.net/event/backchannel-logout``,
    ``sid`` and/or ``sub``, a fresh ``iat``, a ``jti`` used once and no ``nonce``. The local
    sessions that came from ``sid`` — or, with ``sub`` alone, every session of the account
    linked to it — end now; their access tokens expire within ``auth.token_ttl_seconds``.
    Anything else (forged, expired, another audience, replayed) is 400 and ends nothing.
    """
    ended = await _logout(request).receive(session, logout_token)
    return JSONResponse(SignedOut(sessions_ended=ended).model_dump(), headers=NO_STORE)


class _CallbackError(Problem):
    status = 400
    code = "delegated_login_failed"
    title = "统一身份认证登录失败，请重新登录"
