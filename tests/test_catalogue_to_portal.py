"""Publish → portal over real NATS JetStream: a catalogue version published in management reaches the
gateway's catalogue copy with its classification, a newer version replaces it, a withdrawal removes it.

Both services run in-process with their workers (outbox relay, consumers) on their own databases.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NatsClient
from sqlalchemy import text

import yiwang_gateway
import yiwang_management
from yiwang_common.auth import Principal
from yiwang_common.config import DatabaseSettings
from yiwang_common.migrations import upgrade_database
from yiwang_common.testing import (
    bearer,
    create_database,
    drop_database,
    ephemeral_auth,
    fresh_streams,
    nats_url,
)
from yiwang_gateway.config import Settings as GatewaySettings
from yiwang_gateway.main import create_app as create_gateway
from yiwang_gateway.web import guides
from yiwang_management.catalogue.demo import demo_catalogue
from yiwang_management.config import Settings as ManagementSettings
from yiwang_management.main import create_app as create_management

ITEM = demo_catalogue()[0]
OWNER = Principal(
    sub="staff-chuangkou",
    name="窗口张敏",
    kind="staff",
    roles=frozenset({"acceptor"}),
    org_code=ITEM.content.implementing_org.code,
)
CENTRE = Principal(sub="centre", name="中心管理员", kind="staff", roles=frozenset({"admin"}), org_code="X")


@pytest.fixture
async def nc(nc: NatsClient) -> NatsClient:
    await fresh_streams(nc.jetstream(), "management", "gateway")
    return nc


async def _database(service: str, package: Any) -> str:
    url = await create_database(f"yiwang_test_portal_{service}")
    await upgrade_database(
        DatabaseSettings(url=url, schema_name=service), Path(package.__file__).parent / "migrations"
    )
    return url


@pytest.fixture
async def clients(nc: NatsClient) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, str]]:
    management_url = await _database("management", yiwang_management)
    gateway_url = await _database("gateway", yiwang_gateway)
    management = create_management(
        ManagementSettings(
            database=DatabaseSettings(url=management_url),
            nats={"url": nats_url()},
            run_workers=True,
            auth=ephemeral_auth(),
        )
    )
    gateway = create_gateway(
        GatewaySettings(
            database={"url": gateway_url, "schema_name": "gateway"},
            nats={"url": nats_url()},
            run_workers=True,
            env="test",
            auth=ephemeral_auth(),
        )
    )
    # The portal's guide client talks HTTP to the real management app (in-process, no socket).
    setattr(gateway.state, guides.TRANSPORT_STATE_KEY, httpx.ASGITransport(app=management))
    try:
        async with management.router.lifespan_context(management), gateway.router.lifespan_context(gateway):
            m = httpx.AsyncClient(transport=httpx.ASGITransport(app=management), base_url="http://m/api/v1")
            g = httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://g/api/v1")
            async with m, g:
                yield m, g, gateway_url
    finally:
        await drop_database(management_url)
        await drop_database(gateway_url)


async def _wait(predicate: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "the portal did not follow in time"
        await asyncio.sleep(0.05)


async def _publish(m: httpx.AsyncClient, content: dict[str, Any]) -> int:
    r = await m.post(
        "/catalogue/items", json={"item_code": ITEM.item_code, "content": content}, headers=bearer(OWNER)
    )
    assert r.status_code == 201, r.text
    version = int(r.json()["version"])
    base = f"/catalogue/items/{ITEM.item_code}/versions/{version}"
    for action, who in (("submit", OWNER), ("approve", CENTRE), ("publish", CENTRE)):
        r = await m.post(f"{base}/{action}", headers=bearer(who))
        assert r.status_code == 200, (action, r.text)
    return version


async def _facets(gateway_url: str) -> dict[str, Any] | None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(gateway_url)
    try:
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    text("SELECT facets FROM gateway.catalogue_item WHERE item_code = :c"),
                    {"c": ITEM.item_code},
                )
            ).first()
    finally:
        await engine.dispose()
    return None if row is None else dict(row[0])


class TestPublishToPortal:
    async def test_versions_and_withdrawal_reach_the_portal(
        self, clients: tuple[httpx.AsyncClient, httpx.AsyncClient, str]
    ) -> None:
        m, g, gateway_url = clients
        r = await m.post(
            "/catalogue/entries", json=ITEM.entry.model_dump(mode="json"), headers=bearer(CENTRE)
        )
        assert r.status_code == 201, r.text
        content = ITEM.content.model_dump(mode="json")
        first = await _publish(m, content)

        async def shows(version: int) -> bool:
            r = await g.get(f"/items/{ITEM.item_code}")
            return r.status_code == 200 and r.json()["version"] == version

        await _wait(lambda: shows(first))
        detail = (await g.get(f"/items/{ITEM.item_code}")).json()
        assert detail["name"] == "建筑工程施工许可证核发"
        assert detail["guide"]["行使层级"] == "县级" and detail["guide"]["办理地点"]
        facets = await _facets(gateway_url)
        assert facets is not None
        assert facets["exercise_level"] == "4" and facets["item_type_code"] == "01"
        assert facets["region_name"] == "元江哈尼族彝族傣族自治县" and facets["online"] is True

        # 办事指南 PDF: management renders it from the version, the portal's page streams it through.
        root = str(g.base_url).removesuffix("/api/v1/")
        pdf = await g.get(f"{root}/items/{ITEM.item_code}/guide.pdf")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF") and b"/FontFile2" in pdf.content
        assert pdf.headers["etag"] == f'"{ITEM.item_code}-v{first}-pdf"'
        missing = await g.get(f"{root}/items/{ITEM.item_code[:-1]}9/guide.pdf")
        assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")

        second = await _publish(m, content | {"promised_limit_days": 4})
        await _wait(lambda: shows(second))
        assert (await g.get(f"/items/{ITEM.item_code}")).json()["limits"]["promised_limit_days"] == 4

        r = await m.post(
            f"/catalogue/items/{ITEM.item_code}/versions/{second}/withdraw",
            json={"note": "设定依据修订"},
            headers=bearer(CENTRE),
        )
        assert r.status_code == 200, r.text

        async def gone() -> bool:
            return (await g.get(f"/items/{ITEM.item_code}")).status_code == 404

        await _wait(gone)
