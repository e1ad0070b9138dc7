"""The one staff sign-in of the console (ADR 0016, 0103): the cookies and the CSRF token.

The gateway, which issues tokens, sets the cookies; every service that renders staff pages reads
the access-token cookie and verifies it like a bearer token (from the gateway's JWKS). The
access token lives minutes; the refresh-token cookie is sent only to the gateway's sign-in page,
which spends it for a new pair without asking for the password again, until the session ends.
Nothing here knows a service.
"""

from __future__ import annotations

import hashlib
import hmac

#: HttpOnly, SameSite=Strict, Secure over https, sent to every console page of the staff origin.
COOKIE_NAME = "yiwang_staff"
COOKIE_PATH = "/console"
#: The refresh token: HttpOnly, SameSite=Strict, sent only to the gateway's sign-in page.
REFRESH_COOKIE_NAME = "yiwang_staff_refresh"
REFRESH_COOKIE_PATH = "/console/sign-in"
#: Where the sign-in page sends the browser back to after a silent refresh.
NEXT_FIELD = "next"
CSRF_FIELD = "csrf"


def csrf_token(session_token: str) -> str:
    """The form token bound to one session: a keyed hash of the cookie the page cannot read.

    A cross-site page can neither read the HttpOnly cookie nor compute this from anything it can
    see, so a POST carrying it came from a page this session was shown (synchronizer token
    without server state; SameSite=Strict and the Origin check are the other two layers).
    """
    return hmac.new(session_token.encode(), b"yiwang-console-csrf", hashlib.sha256).hexdigest()


def csrf_matches(session_token: str, submitted: str) -> bool:
    """Constant-time comparison of a submitted form token with the session's."""
    return hmac.compare_digest(csrf_token(session_token), submitted)


def same_origin(origin: str | None, scheme: str, host: str) -> bool:
    """Whether a request's ``Origin`` header (when the browser sent one) names this origin."""
    return origin is None or origin == f"{scheme}://{host}"
