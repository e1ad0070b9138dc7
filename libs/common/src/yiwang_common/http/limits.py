"""Over-long request lines and headers answered with problem+json, not with the server's text.

Two layers, because the HTTP parser answers some requests before the app ever sees them:

* :class:`ProblemHttpToolsProtocol` is uvicorn's httptools protocol whose own 400 (a request the
  parser cannot read: garbage, a request line too long for it) is an RFC 9457 body. The status
  and the moment stay uvicorn's; only the body changes.
* :class:`RequestLineLimitMiddleware` refuses what httptools lets through: it has no limit on
  header size (a 200 KB header reaches the app) and reads URLs far longer than any of our routes
  needs. Such requests get 414 or 431 before any routing, body reading or database work.
"""

from __future__ import annotations

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


class ProblemHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, answering unparseable requests with problem+json."""

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
