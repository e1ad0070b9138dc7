"""Request context: ids for logs and events, echoed back to the caller."""

from __future__ import annotations

import logging
import re
import uuid

import orjson
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yiwang_common.http.problems import PROBLEM_JSON, InternalError
from yiwang_common.observability import bind_context, reset_context

log = logging.getLogger(__name__)

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

        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Rendered here rather than by Starlette's outermost handler so the 500 still carries
            # the request id; the stack trace goes to the log, never to the client.
            if started:
                raise
            log.exception("unhandled error", extra={"path": scope.get("path")})
            body = orjson.dumps(InternalError().body(scope.get("path")))
            await send_with_id(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", PROBLEM_JSON.encode()),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send_with_id({"type": "http.response.body", "body": body})
        finally:
            reset_context(tokens)
