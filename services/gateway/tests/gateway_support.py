"""Helpers and constants shared by the gateway tests (fixtures live in conftest.py)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import yiwang_gateway
from yiwang_common.contracts.common import MaterialRequirement, Organisation
from yiwang_common.contracts.management import ItemPublished
from yiwang_common.db import session_scope
from yiwang_common.events import EventData, EventEnvelope, make_event
from yiwang_common.testing import ephemeral_auth, nats_url
from yiwang_gateway.account.models import Account
from yiwang_gateway.config import Settings

MIGRATIONS = Path(yiwang_gateway.__file__).parent / "migrations"
ITEM_CODE = "11530428015176456L2000109003000"
ORG = Organisation(name="元江县住房和城乡建设局", code="11530428015176456L")
MANAGEMENT_SOURCE = "urn:yiwang:530428:management"
PDF = b"%PDF-1.7\n" + b"x" * 100
ALL_TABLES = (
    "account, catalogue_item, uploaded_material, application, timeline_entry, outbox, inbox, login_throttle,"
    " agent_authorisation, staff_assignment, sms_challenge, application_draft, delegated_login,"
    " realname_verification"
)


def make_settings(url: str, **overrides: Any) -> Settings:
    overrides.setdefault("auth", ephemeral_auth())
    return Settings(
        database={"url": url, "schema_name": "gateway"},
        nats={"url": nats_url()},
        run_workers=False,
        env="test",
        **overrides,
    )


@dataclass
class FakeDataSharing:
    """Stands in for data-sharing's ``POST /api/v1/materials``."""

    mode: str = "ok"
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        body = request.content
        if self.mode == "connect_error":
            raise httpx.ConnectError("refused", request=request)
        if self.mode == "timeout":
            raise httpx.ReadTimeout("slow", request=request)
        if self.mode == "server_error":
            return httpx.Response(500, text="boom")
        if b"Content-Type: text/plain" in body:
            problem = {
                "type": "/problems/unsupported-media-type",
                "title": "不支持的文件类型",
                "status": 415,
                "code": "unsupported_media_type",
            }
            return httpx.Response(
                415,
                content=json.dumps(problem).encode(),
                headers={"content-type": "application/problem+json"},
            )
        start = body.index(b"\r\n\r\n") + 4
        content = body[start : body.rindex(b"\r\n--")]
        media_type = "image/png" if content.startswith(b"\x89PNG") else "application/pdf"
        return httpx.Response(
            201,
            json={
                "sha256": hashlib.sha256(content).hexdigest(),
                "size": len(content),
                "media_type": media_type,
                "filename": "file.bin",
            },
        )


@dataclass
class Accounts:
    zhangsan: Account
    lisi: Account
    yjcj: Account
    chuangkou: Account


def item_published(
    version: int = 1, *, name: str = "建筑工程施工许可证核发", item_code: str = ITEM_CODE
) -> ItemPublished:
    return ItemPublished(
        item_code=item_code,
        basic_code="000109003000",
        name=name,
        item_type="行政许可",
        version=version,
        implementing_org=ORG,
        region_code="530428",
        conditions=["已经办理该建筑工程用地批准手续"],
        materials=[
            MaterialRequirement(code="M01", name="建筑工程施工许可证申请表", media_types=["application/pdf"]),
            MaterialRequirement(code="M02", name="建设工程规划许可证"),
            MaterialRequirement(code="M03", name="施工组织设计", required=False, max_bytes=50),
        ],
        statutory_limit_days=7,
        promised_limit_days=5,
        form_schema={
            "type": "object",
            "required": ["project_name", "address", "area_m2"],
            "properties": {
                "project_name": {"type": "string", "title": "工程名称"},
                "address": {"type": "string", "title": "建设地址"},
                "area_m2": {"type": "number", "title": "建设规模（平方米）"},
            },
        },
        guide={"办理地点": "元江县政务服务中心"},
        published_at=datetime(2026, 11, 1, tzinfo=UTC),
    )


def envelope(data: EventData, *, subject: str | None = None) -> EventEnvelope:
    return make_event(data, source=MANAGEMENT_SOURCE, subject=subject, correlation_id=subject)


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    content: bytes = PDF,
    content_type: str = "application/pdf",
) -> str:
    r = await client.post(
        "/api/v1/materials", files={"file": ("f.pdf", content, content_type)}, headers=headers
    )
    assert r.status_code == 201, r.text
    return str(r.json()["sha256"])


async def count(sessionmaker: async_sessionmaker[AsyncSession], table: str) -> int:
    async with session_scope(sessionmaker) as session:
        return int((await session.execute(select(func.count()).select_from(text(table)))).scalar_one())


FORM = {"project_name": "元江县第一中学教学楼", "address": "元江县澧江街道", "area_m2": 5200}


@dataclass
class FakeManagement:
    """Stands in for management's public ``GET /api/v1/catalogue/items/{code}/guide.pdf``.

    It knows the guides in ``guides`` (code -> PDF bytes); the real endpoint is tested in the
    management suite, the real wiring end to end by the stack (scripts/stack.py passes the URL).
    """

    mode: str = "ok"
    guides: dict[str, bytes] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.mode == "connect_error":
            raise httpx.ConnectError("refused", request=request)
        if self.mode == "timeout":
            raise httpx.ReadTimeout("slow", request=request)
        if self.mode == "server_error":
            return httpx.Response(500, text="boom")
        code = request.url.path.removeprefix("/api/v1/catalogue/items/").removesuffix("/guide.pdf")
        if code not in self.guides:
            problem = {"type": "/problems/guide_not_found", "title": "办事指南不存在", "status": 404}
            return httpx.Response(404, json=problem, headers={"content-type": "application/problem+json"})
        etag = f'"{code}-v1-pdf"'
        headers = {"etag": etag, "last-modified": "Wed, 02 Dec 2026 01:00:00 GMT"}
        if request.headers.get("if-none-match") == etag:
            return httpx.Response(304, headers=headers)
        headers |= {
            "content-type": "application/pdf",
            "content-disposition": f'inline; filename="{code}.pdf"',
        }
        return httpx.Response(200, content=self.guides[code], headers=headers)
