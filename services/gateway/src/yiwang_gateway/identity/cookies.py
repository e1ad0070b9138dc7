"""The browser side of a session: two HttpOnly cookies, the access token and the refresh token.

The access-token cookie goes to every page that needs the principal and lives as long as the
token (minutes); the refresh-token cookie goes only to the sign-in page, which spends it for a
new pair and sends the browser back (``next``), so a session outlives its access tokens without
the password being typed again, and ends for good on sign-out, password change or reuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from fastapi import Request, Response

from yiwang_common.auth import Principal, TokenVerifier
from yiwang_common.http.problems import Unauthorized
from yiwang_common.staff_session import COOKIE_NAME, COOKIE_PATH, REFRESH_COOKIE_NAME, REFRESH_COOKIE_PATH
from yiwang_gateway.identity.service import TokenPair


@dataclass(frozen=True)
class CookiePair:
    """Names, paths and SameSite of one kind of browser session."""

    access: str
    access_path: str
    refresh: str
    refresh_path: str
    samesite: Literal["lax", "strict"]


#: 工作人员 The staff console's session (ADR 0016): Strict, the console is never linked from elsewhere.
STAFF = CookiePair(COOKIE_NAME, COOKIE_PATH, REFRESH_COOKIE_NAME, REFRESH_COOKIE_PATH, "strict")
#: 公众 The citizen portal's session: Lax, so that a link to the portal from elsewhere arrives
#: signed in (every POST carries a CSRF token as well); the refresh token stays Strict.
PORTAL = CookiePair("yiwang_session", "/", "yiwang_refresh", "/sign-in", "lax")


def set_session(response: Response, request: Request, pair: TokenPair, kind: CookiePair) -> None:
    """Put both tokens of a sign-in or refresh into their cookies."""
    secure = request.url.scheme == "https"
    response.set_cookie(
        kind.access,
        pair.access_token,
        max_age=pair.expires_in,
        path=kind.access_path,
        httponly=True,
        secure=secure,
        samesite=kind.samesite,
    )
    response.set_cookie(
        kind.refresh,
        pair.refresh_token,
        max_age=pair.refresh_expires_in,
        path=kind.refresh_path,
        httponly=True,
        secure=secure,
        samesite="strict",
    )


def clear_session(response: Response, request: Request, kind: CookiePair) -> None:
    """Drop both cookies."""
    secure = request.url.scheme == "https"
    response.delete_cookie(
        kind.access, path=kind.access_path, secure=secure, httponly=True, samesite=kind.samesite
    )
    response.delete_cookie(
        kind.refresh, path=kind.refresh_path, secure=secure, httponly=True, samesite="strict"
    )


async def cookie_principal(request: Request, kind: CookiePair) -> Principal | None:
    """The principal of the access-token cookie, if it holds a valid token."""
    token = request.cookies.get(kind.access, "")
    if not token:
        return None
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        return await verifier.averify(token)
    except Unauthorized:
        return None


async def portal_principal(request: Request) -> Principal | None:
    """The signed-in citizen of a portal page, or None (pages then link to ``/sign-in?next=…``)."""
    return await cookie_principal(request, PORTAL)


def safe_next(value: str | None, *, origins: tuple[str, ...] = (), default: str) -> str:
    """Where to go after sign-in: a path of this site, or a URL of one of ``origins``; else ``default``.

    Anything else (another site, ``//host``, a scheme other than http(s)) would make the sign-in
    page an open redirect.
    """
    if not value or len(value) > 2000 or "\\" in value:
        return default
    parts = urlsplit(value)
    if not parts.scheme and not parts.netloc and value.startswith("/") and not value.startswith("//"):
        return value
    if parts.scheme in ("http", "https") and f"{parts.scheme}://{parts.netloc}" in origins:
        return value
    return default
