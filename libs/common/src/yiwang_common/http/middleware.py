"""ASGI middleware: request context (ids for logs and events) and request body limits."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence
from typing import Any

import orjson
from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yiwang_common.http.problems import PROBLEM_JSON, InternalError, PayloadTooLarge, ProblemResponse
from yiwang_common.observability import bind_context, reset_context

log = logging.getLogger(__name__)

# Caller-supplied ids end up in logs and event headers; accept only short, plain tokens.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


_ID_HEADERS = frozenset((b"x-request-id", b"x-correlation-id", b"traceparent"))


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
        # Only the three ids are read: decoding every header of every request cost more than them.
        ids: dict[bytes, str] = {}
        for name, value in scope["headers"]:
            if name in _ID_HEADERS and name not in ids:
                ids[name] = value.decode("latin-1")
        request_id = _safe(ids.get(b"x-request-id")) or uuid.uuid4().hex
        tokens = bind_context(
            correlation_id=_safe(ids.get(b"x-correlation-id")),
            request_id=request_id,
            traceparent=_safe(ids.get(b"traceparent")),
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


class BodyTooLarge(StarletteHTTPException):
    """Raised from ``receive`` once a body passes its limit.

    An HTTP exception so FastAPI's body parsing re-raises it instead of turning it into a 400.
    """

    def __init__(self, limit: int) -> None:
        """Create the exception.

        Args:
            limit: the limit in bytes that was passed.
        """
        super().__init__(413, f"请求体不得超过 {limit} 字节")
        self.limit = limit


class BodyLimitMiddleware:
    """Refuses request bodies over their limit with a 413 problem before anything reads them whole.

    The limit is the first of ``routes`` whose ``(method, path prefix)`` matches, else ``default``:
    JSON bodies are small, material uploads are as large as their route allows. A declared
    ``Content-Length`` over the limit is answered at once; otherwise bytes are counted as they
    arrive (chunked bodies included) and the request fails the moment the count passes the
    limit. Whatever the application then answers (its body parser, a streaming proxy or its
    error handler), the client gets the 413, and the aborted unit of work has stored nothing.
    """

    def __init__(self, app: ASGIApp, *, default: int, routes: Sequence[tuple[str, str, int]] = ()) -> None:
        """Wrap an ASGI app.

        Args:
            app: the wrapped application.
            default: the limit in bytes of every body not matched by ``routes``.
            routes: ``(method, path prefix, limit)`` overrides, first match wins.
        """
        self.app = app
        self.default = default
        self.routes = tuple(routes)

    def limit_for(self, method: str, path: str) -> int:
        """Return the body limit of a request.

        Args:
            method: the HTTP method.
            path: the request path.

        Returns:
            The limit in bytes.
        """
        for route_method, prefix, limit in self.routes:
            if route_method == method and path.startswith(prefix):
                return limit
        return self.default

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
        limit = self.limit_for(scope["method"], scope["path"])
        declared = chunked = None
        for name, value in scope["headers"]:
            if name == b"content-length" and declared is None:
                declared = value
            elif name == b"transfer-encoding":
                chunked = value
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_too_large(send, scope, limit)
            return
        if declared is None and chunked is None:
            # Neither Content-Length nor Transfer-Encoding: HTTP/1.1 framing says there is no body
            # (every GET), so there is nothing to count and no need to wrap receive and send.
            await self.app(scope, receive, send)
            return
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge(limit)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                # The application answered the aborted read in its own way; the answer is the 413.
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await _send_too_large(send, scope, limit)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded or started:
                raise
            await _send_too_large(send, scope, limit)


async def _send_too_large(send: Send, scope: Scope, limit: int) -> None:
    body = orjson.dumps(PayloadTooLarge(f"请求体不得超过 {limit} 字节", max_bytes=limit).body(scope["path"]))
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                # No "Connection: close": a client still sending would see a reset instead of the
                # 413; the server discards the rest of the body and may close the connection itself.
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def document_body_limit(app: FastAPI) -> None:
    """Add the 413 problem to every operation of the app's OpenAPI document that takes a body.

    Args:
        app: the FastAPI application (its ``openapi`` is wrapped once).
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        schema.setdefault("components", {}).setdefault("schemas", {}).setdefault(
            "ProblemResponse", ProblemResponse.model_json_schema(ref_template="#/components/schemas/{model}")
        )
        too_large = {
            "description": PayloadTooLarge.title,
            "content": {
                PROBLEM_JSON: {
                    "schema": {"$ref": "#/components/schemas/ProblemResponse"},
                    "example": PayloadTooLarge("请求体不得超过 524288 字节", max_bytes=524288).body(),
                }
            },
        }
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                if isinstance(operation, dict) and "requestBody" in operation:
                    operation.setdefault("responses", {}).setdefault("413", too_large)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
