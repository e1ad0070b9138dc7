"""申请材料: the upload proxy to data-sharing."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from gateway_support import PDF, Accounts, FakeDataSharing, count, make_settings
from sqlalchemy import select

from yiwang_common.db import session_scope
from yiwang_gateway.main import create_app
from yiwang_gateway.material.client import TRANSPORT_STATE_KEY
from yiwang_gateway.material.models import UploadedMaterial

URL = "/api/v1/materials"


def _files(content: bytes = PDF, content_type: str = "application/pdf") -> dict[str, Any]:
    return {"file": ("申请表.pdf", content, content_type)}


class TestUploadMaterial:
    async def test_streams_to_datasharing_and_records_the_upload(
        self,
        client: httpx.AsyncClient,
        accounts: Accounts,
        auth: Any,
        fake_datasharing: FakeDataSharing,
        sessionmaker: Any,
    ) -> None:
        headers = auth(accounts.zhangsan)
        r = await client.post(URL, files=_files(), headers=headers)
        assert r.status_code == 201
        sha = hashlib.sha256(PDF).hexdigest()
        assert r.json() == {
            "sha256": sha,
            "size": len(PDF),
            "media_type": "application/pdf",
            "filename": "file.bin",
        }
        forwarded = fake_datasharing.requests[0]
        assert forwarded.url.path == "/api/v1/materials"
        assert forwarded.headers["authorization"] == headers["Authorization"]
        assert forwarded.headers["content-type"].startswith("multipart/form-data; boundary=")
        async with session_scope(sessionmaker) as session:
            rows = (await session.execute(select(UploadedMaterial))).scalars().all()
        assert [(m.owner_id, m.sha256, m.size) for m in rows] == [(str(accounts.zhangsan.id), sha, len(PDF))]

    async def test_same_content_twice_keeps_one_record(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, sessionmaker: Any
    ) -> None:
        for _ in range(2):
            r = await client.post(URL, files=_files(), headers=auth(accounts.zhangsan))
            assert r.status_code == 201
        assert await count(sessionmaker, "uploaded_material") == 1

    async def test_upstream_problem_passes_through_unchanged(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, sessionmaker: Any
    ) -> None:
        r = await client.post(URL, files=_files(b"hello", "text/plain"), headers=auth(accounts.zhangsan))
        assert r.status_code == 415
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json() == {
            "type": "/problems/unsupported-media-type",
            "title": "不支持的文件类型",
            "status": 415,
            "code": "unsupported_media_type",
        }
        assert await count(sessionmaker, "uploaded_material") == 0

    @pytest.mark.parametrize(
        ("mode", "status", "code"),
        [
            ("connect_error", 502, "upstream_unavailable"),
            ("timeout", 504, "upstream_timeout"),
            ("server_error", 502, "upstream_unavailable"),
        ],
    )
    async def test_upstream_failures_become_gateway_problems(
        self,
        client: httpx.AsyncClient,
        accounts: Accounts,
        auth: Any,
        fake_datasharing: FakeDataSharing,
        sessionmaker: Any,
        mode: str,
        status: int,
        code: str,
    ) -> None:
        fake_datasharing.mode = mode
        r = await client.post(URL, files=_files(), headers=auth(accounts.zhangsan))
        assert r.status_code == status
        assert r.json()["code"] == code
        assert await count(sessionmaker, "uploaded_material") == 0

    async def test_declared_length_over_cap_is_413_before_any_upstream_call(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, fake_datasharing: FakeDataSharing
    ) -> None:
        headers = auth(accounts.zhangsan) | {
            "content-type": "multipart/form-data; boundary=x",
            "content-length": str(20 * 1024 * 1024 + 1),
        }
        r = await client.post(URL, content=b"--x--", headers=headers)
        assert r.status_code == 413
        assert r.json()["code"] == "payload_too_large"
        assert fake_datasharing.requests == []

    async def test_not_multipart_is_415(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any
    ) -> None:
        r = await client.post(URL, json={"file": "x"}, headers=auth(accounts.zhangsan))
        assert r.status_code == 415
        assert r.json()["code"] == "unsupported_media_type"

    async def test_staff_may_not_upload(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any
    ) -> None:
        r = await client.post(URL, files=_files(), headers=auth(accounts.chuangkou))
        assert r.status_code == 403

    async def test_anonymous_is_401(self, client: httpx.AsyncClient) -> None:
        r = await client.post(URL, files=_files())
        assert r.status_code == 401


@pytest.fixture
async def small_cap_client(
    database_url: str, fake_datasharing: FakeDataSharing
) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(make_settings(database_url, max_upload_bytes=64))
    setattr(app.state, TRANSPORT_STATE_KEY, httpx.MockTransport(fake_datasharing))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c,
    ):
        yield c


class TestUploadCapWhileStreaming:
    async def test_body_over_cap_without_content_length_is_413(
        self, small_cap_client: httpx.AsyncClient, accounts: Accounts, auth: Any, sessionmaker: Any
    ) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            yield b'--x\r\nContent-Disposition: form-data; name="file"\r\n\r\n'
            yield b"y" * 100
            yield b"\r\n--x--\r\n"

        headers = auth(accounts.zhangsan) | {"content-type": "multipart/form-data; boundary=x"}
        r = await small_cap_client.post(URL, content=chunks(), headers=headers)
        assert r.status_code == 413
        assert await count(sessionmaker, "uploaded_material") == 0
