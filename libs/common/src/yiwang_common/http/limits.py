"""Over-long request lines and headers answered with problem+json, not with the server's text.

Two layers, because the HTTP parser answers some requests before the app ever sees them:

* :class:`ProblemHttpToolsProtocol` is uvicorn's httptools protocol whose own 400 (a request the
  parser cannot read: garbage, a request line too long for it) is an RFC 9457 body. The status
  and the moment stay uvicorn's; only the body changes.
* :class:`RequestLineLimitMiddleware` refuses what httptools lets through: it has no limit on
  header size (a 200 KB header reaches the app) and reads URLs far longer than any of our routes
  needs. Such requests get 414 or 431 before any routing, body reading or database work.

The protocol also writes a response's head and its body in one socket write (:class:`_OneWrite`).
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from yiwang_common.http.problems import PROBLEM_JSON

#: Longest path plus query string accepted (bytes); nginx's default header buffer is 8 KiB too.
MAX_URL_BYTES = 8 * 1024
#: Most bytes of all request headers together, and of one header line.
MAX_HEADER_BYTES = 32 * 1024
MAX_HEADER_LINE_BYTES = 8 * 1024


def problem_bytes(status: int, code: str, title: str, detail: str) -> bytes:
    """A problem+json body for a response written outside the app (no request id, no path)."""
    body = {"type": "/problems/" + code.replace("_", "-"), "title": title, "status": status, "code": code}
    return orjson.dumps(body | {"detail": detail})


class _OneWrite:
    """The transport one request's cycle writes through: what it writes in one turn of the loop
    goes out in one socket write.

    uvicorn writes the status line and headers as soon as the app sends ``http.response.start``
    and the body on ``http.response.body``: two writes, two TCP segments over loopback, when the
    app sends both in the same step (every non-streaming response). The socket writes were more
    than a quarter of the gateway's CPU per search (py-spy, docs/adr/0133-search-direct-path.md),
    the head's and the body's each. A write is held until the cycle's next write, its ``close``, or
    the end of this turn of the loop (``call_soon``), so a streaming response's head or a
    ``100 Continue`` is delayed by one turn at most and the bytes and their order are unchanged;
    a complete response is flushed before the protocol goes on (``on_response_complete``).
    """

    __slots__ = ("_transport", "_held", "_flush")

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._held: bytes | None = None
        self._flush: asyncio.Handle | None = None

    def write(self, data: bytes) -> None:
        if self._held is None:
            self._held = data
            self._flush = asyncio.get_running_loop().call_soon(self.flush)
            return
        held, self._held = self._held, None
        assert self._flush is not None
        self._flush.cancel()
        self._transport.write(held + data)

    def flush(self) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            assert self._flush is not None
            self._flush.cancel()
            if not self._transport.is_closing():
                self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class ProblemHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, answering unparseable requests with problem+json, and writing
    each response's head with its body (:class:`_OneWrite`)."""

    def on_headers_complete(self) -> None:
        """Start the request's cycle as uvicorn does, then give it a transport that joins its writes."""
        before = self.cycle
        super().on_headers_complete()
        # None of the cycle's writes has happened yet: its task is started, not run.
        if self.cycle is not None and self.cycle is not before:
            self.cycle.transport = _OneWrite(self.transport)  # type: ignore[assignment]

    def on_response_complete(self) -> None:
        """A complete response is on the socket before anything may close it (a head without a
        body, as HEAD's, would otherwise wait for the end of the turn)."""
        writer = self.cycle.transport if self.cycle is not None else None
        if isinstance(writer, _OneWrite):
            writer.flush()
        super().on_response_complete()

    def send_400_response(self, msg: str) -> None:
        """Write the parser's 400 as a problem and close the connection, as uvicorn does.

        Args:
            msg: uvicorn's reason (not sent: it may echo parser internals).
        """
        body = problem_bytes(
            400, "malformed_request", "请求格式无效", "无法解析的 HTTP 请求 (malformed HTTP request)"
        )
        head = [b"HTTP/1.1 400 Bad Request\r\n"]
        for name, value in self.server_state.default_headers:
            head.append(name + b": " + value + b"\r\n")
        head.append(f"content-type: {PROBLEM_JSON}\r\n".encode())
        head.append(b"content-length: " + str(len(body)).encode() + b"\r\n")
        head.append(b"connection: close\r\n\r\n")
        self.transport.write(b"".join(head) + body)
        self.transport.close()


class RequestLineLimitMiddleware:
    """Refuse over-long URLs (414) and header sections (431) with problem+json."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_url_bytes: int = MAX_URL_BYTES,
        max_header_bytes: int = MAX_HEADER_BYTES,
        max_header_line_bytes: int = MAX_HEADER_LINE_BYTES,
    ) -> None:
        """Wrap an ASGI app.

        Args:
            app: the wrapped application.
            max_url_bytes: longest raw path plus query string.
            max_header_bytes: most bytes of all headers (names and values).
            max_header_line_bytes: most bytes of one header (name and value).
        """
        self.app = app
        self.max_url = max_url_bytes
        self.max_headers = max_header_bytes
        self.max_line = max_header_line_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call.

        Args:
            scope: the ASGI scope.
            receive: the ASGI receive channel.
            send: the ASGI send channel.
        """
        if scope["type"] == "http":
            url = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string", b""))
            if url > self.max_url:
                detail = f"请求地址过长 (URL over {self.max_url} bytes)"
                await _refuse(send, 414, "uri_too_long", "请求地址过长", detail)
                return
            lines = [len(k) + len(v) for k, v in scope["headers"]]
            if sum(lines) > self.max_headers or any(n > self.max_line for n in lines):
                detail = f"请求头过大 (headers over {self.max_headers} bytes or a line over {self.max_line})"
                await _refuse(send, 431, "request_header_fields_too_large", "请求头过大", detail)
                return
        await self.app(scope, receive, send)


async def _refuse(send: Send, status: int, code: str, title: str, detail: str) -> None:
    body = problem_bytes(status, code, title, detail)
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
