"""Over-long request lines and headers, and unparseable requests, get problem+json (issue 6).

Run against a real uvicorn (httptools, as ``serve`` runs it) on a free port, over a raw socket:
the parser's own answers never pass through an ASGI test client.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from uvicorn.server import ServerState

from yiwang_common.http.limits import ProblemHttpToolsProtocol, RequestLineLimitMiddleware
from yiwang_common.http.problems import install_problem_handlers


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(RequestLineLimitMiddleware)

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    return app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
async def port() -> AsyncIterator[int]:
    number = _free_port()
    config = uvicorn.Config(
        _app(), host="127.0.0.1", port=number, http=ProblemHttpToolsProtocol, log_config=None, lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.02)
    assert server.started, "uvicorn did not start"
    yield number
    server.should_exit = True
    await task


async def exchange(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def request(target: bytes, *headers: bytes) -> bytes:
    return (
        b"GET "
        + target
        + b" HTTP/1.1\r\nHost: t\r\n"
        + b"".join(h + b"\r\n" for h in headers)
        + (b"Connection: close\r\n\r\n")
    )


async def test_a_normal_request_passes(port: int) -> None:
    status, _, body = await exchange(port, request(b"/ping"))
    assert status == 200 and json.loads(body) == {"ok": True}


@pytest.mark.parametrize("length", [9_000, 60_000, 200_000])
async def test_over_long_url_is_a_problem(port: int, length: int) -> None:
    status, headers, body = await exchange(port, request(b"/ping?q=" + b"a" * length))
    assert status in (400, 414)
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["status"] == status


@pytest.mark.parametrize("length", [9_000, 200_000])
async def test_over_long_header_is_431_problem(port: int, length: int) -> None:
    status, headers, body = await exchange(port, request(b"/ping", b"X-Big: " + b"a" * length))
    assert status == 431
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == 431 and problem["code"] == "request_header_fields_too_large"


async def test_too_many_headers_together_are_431(port: int) -> None:
    many = [f"X-H{i}: ".encode() + b"a" * 4000 for i in range(10)]
    status, headers, _ = await exchange(port, request(b"/ping", *many))
    assert status == 431 and headers["content-type"] == "application/problem+json"


async def test_unparseable_request_is_400_problem(port: int) -> None:
    status, headers, body = await exchange(port, b"\x00\x01GARBAGE\r\n\r\n")
    assert status == 400
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body) == {
        "type": "/problems/malformed-request",
        "title": "请求格式无效",
        "status": 400,
        "code": "malformed_request",
        "detail": "无法解析的 HTTP 请求 (malformed HTTP request)",
    }


class _Transport(asyncio.Transport):
    """Records what the protocol writes, one entry per ``write``."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: object = None) -> object:
        return {"peername": ("127.0.0.1", 5000), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def _streaming_app(step: asyncio.Event) -> FastAPI:
    app = _app()

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first"
            await step.wait()
            yield b"second"

        return StreamingResponse(chunks(), media_type="text/plain")

    return app


async def _served(app: FastAPI, raw: bytes, until: Callable[[_Transport], bool]) -> _Transport:
    config = uvicorn.Config(app, http=ProblemHttpToolsProtocol, log_config=None, lifespan="off")
    config.load()
    protocol = ProblemHttpToolsProtocol(config, ServerState(), app_state={})
    transport = _Transport()
    protocol.connection_made(transport)
    protocol.data_received(raw)
    for _ in range(500):
        if until(transport):
            break
        await asyncio.sleep(0.01)
    return transport


async def test_a_response_head_and_body_go_out_in_one_write() -> None:
    # Two writes were two loopback segments per response: a quarter of the gateway's CPU per search.
    transport = await _served(_app(), request(b"/ping"), lambda t: t.closed)
    assert len(transport.writes) == 1
    head, _, body = transport.writes[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and json.loads(body) == {"ok": True}


async def test_a_head_answer_and_a_stream_are_not_held_back() -> None:
    # A HEAD answer (a head, no body) is written when the response completes; a streaming
    # answer's head and first chunk go out before its next chunk is made.
    transport = await _served(_app(), request(b"/ping").replace(b"GET", b"HEAD", 1), lambda t: t.closed)
    assert len(transport.writes) == 1 and transport.writes[0].startswith(b"HTTP/1.1 405")
    step = asyncio.Event()
    transport = await _served(
        _streaming_app(step), request(b"/stream"), lambda t: b"first" in b"".join(t.writes)
    )
    assert b"first" in b"".join(transport.writes) and not transport.closed
    step.set()
    for _ in range(500):
        if transport.closed:
            break
        await asyncio.sleep(0.01)
    assert b"second" in b"".join(transport.writes) and transport.closed
