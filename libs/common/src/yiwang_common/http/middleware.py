"""Request context: ids for logs and events, echoed back to the caller."""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yiwang_common.observability import bind_context, reset_context

# Caller-supplied ids end up in logs and event headers; accept only short, plain tokens.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def _safe(value: str | None) -> str | None:
    return value if value and _SAFE_ID.match(value) else None


class RequestContextMiddleware:
    """Binds ``X-Request-ID``, ``X-Correlation-ID`` and ``traceparent`` to the request's task."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap an ASGI app.

        Args:
            app: the wrapped application.
        """
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call.

        Args:
            scope: the ASGI scope.
            receive: the ASGI receive channel.
            send: the ASGI send channel.
        """
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = _safe(headers.get("x-request-id")) or uuid.uuid4().hex
        tokens = bind_context(
            correlation_id=_safe(headers.get("x-correlation-id")),
            request_id=request_id,
            traceparent=_safe(headers.get("traceparent")),
        )

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            reset_context(tokens)
