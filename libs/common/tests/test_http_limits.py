"""Over-long request lines and headers, and unparseable requests, get problem+json (issue 6).

Run against a real uvicorn (httptools, as ``serve`` runs it) on a free port, over a raw socket:
the parser's own answers never pass through an ASGI test client.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn
from fastapi import FastAPI

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
