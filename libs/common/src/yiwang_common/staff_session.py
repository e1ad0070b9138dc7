"""The one staff sign-in of the console (ADR 0016): the cookie and its CSRF token.

The gateway, which issues tokens, sets the cookie; every service that renders staff pages reads
it and verifies the token with the public key like a bearer token. Nothing here knows a service.
"""

from __future__ import annotations

import hashlib
import hmac

#: HttpOnly, SameSite=Strict, Secure over https, sent to every console page of the staff origin.
COOKIE_NAME = "yiwang_staff"
COOKIE_PATH = "/console"
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
