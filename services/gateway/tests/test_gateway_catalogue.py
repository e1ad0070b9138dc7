"""事项目录: the ItemPublished projection and the public item API."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from gateway_support import ITEM_CODE, envelope, item_published

from yiwang_common.config import NatsSettings
from yiwang_common.contracts.management import ItemPublished
from yiwang_common.db import session_scope
from yiwang_common.events import ConsumerRunner
from yiwang_common.events.consumer import _Parsed
from yiwang_gateway.catalogue.events import on_item_published
from yiwang_gateway.catalogue.models import CatalogueItem
from yiwang_gateway.db import messaging
from yiwang_gateway.main import MANAGEMENT_SUBSCRIPTION


class _Msg:
    subject = ItemPublished.subject


async def _publish(sessionmaker: Any, data: ItemPublished) -> None:
    async with session_scope(sessionmaker) as session:
        await on_item_published(session, envelope(data), data)


async def _stored(sessionmaker: Any, code: str = ITEM_CODE) -> CatalogueItem | None:
    async with session_scope(sessionmaker) as session:
        return await session.get(CatalogueItem, code)


class TestItemPublishedHandler:
    async def test_inserts_the_item(self, sessionmaker: Any) -> None:
        await _publish(sessionmaker, item_published())
        stored = await _stored(sessionmaker)
        assert stored is not None
        assert stored.version == 1
        assert stored.org == {"name": "元江县住房和城乡建设局", "code": "11530428015176456L"}
        assert stored.limits["promised_limit_days"] == 5
        assert [m["code"] for m in stored.materials] == ["M01", "M02", "M03"]

    async def test_newer_version_replaces_and_older_is_ignored(self, sessionmaker: Any) -> None:
        await _publish(sessionmaker, item_published(2, name="第二版"))
        await _publish(sessionmaker, item_published(1, name="第一版"))
        stored = await _stored(sessionmaker)
        assert stored is not None and (stored.version, stored.name) == (2, "第二版")
        await _publish(sessionmaker, item_published(3, name="第三版"))
        stored = await _stored(sessionmaker)
        assert stored is not None and (stored.version, stored.name) == (3, "第三版")

    async def test_same_event_through_the_inbox_is_applied_once(self, sessionmaker: Any) -> None:
        runner = ConsumerRunner(None, sessionmaker, messaging.inbox, MANAGEMENT_SUBSCRIPTION, NatsSettings())  # type: ignore[arg-type]
        data = item_published()
        env = envelope(data)
        calls: list[int] = []

        async def counting(session: Any, e: Any, d: Any) -> None:
            calls.append(1)
            await on_item_published(session, e, d)

        for _ in range(2):
            await runner._process([_Parsed(_Msg(), env, data, counting)])  # type: ignore[arg-type]
        assert len(calls) == 1
        assert (await _stored(sessionmaker)) is not None


class TestListItems:
    async def test_searches_by_name_with_pagination(
        self, client: httpx.AsyncClient, sessionmaker: Any
    ) -> None:
        await _publish(sessionmaker, item_published())
        await _publish(sessionmaker, item_published(item_code="X2", name="建设工程规划许可证核发"))
        await _publish(sessionmaker, item_published(item_code="X3", name="个体工商户登记"))
        r = await client.get("/api/v1/items", params={"q": "许可证", "limit": 1})
        assert r.status_code == 200
        body = r.json()
        assert body["pagination"] == {"total_count": 2, "max_page": 2}
        assert len(body["items"]) == 1
        r2 = await client.get("/api/v1/items", params={"q": "许可证", "limit": 1, "page": 2})
        names = {body["items"][0]["name"], r2.json()["items"][0]["name"]}
        assert names == {"建筑工程施工许可证核发", "建设工程规划许可证核发"}
        assert body["items"][0]["promised_limit_days"] == 5

    async def test_like_wildcards_in_q_are_literal(
        self, client: httpx.AsyncClient, sessionmaker: Any
    ) -> None:
        await _publish(sessionmaker, item_published())
        r = await client.get("/api/v1/items", params={"q": "%"})
        assert r.json()["pagination"]["total_count"] == 0

    @pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"page": 0}, {"page": "x"}])
    async def test_bad_paging_is_422(self, client: httpx.AsyncClient, params: dict[str, Any]) -> None:
        r = await client.get("/api/v1/items", params=params)
        assert r.status_code == 422


class TestGetItem:
    async def test_returns_the_guide(self, client: httpx.AsyncClient, sessionmaker: Any) -> None:
        await _publish(sessionmaker, item_published())
        r = await client.get(f"/api/v1/items/{ITEM_CODE}")
        assert r.status_code == 200
        body = r.json()
        assert body["name"] == "建筑工程施工许可证核发"
        assert body["form_schema"]["required"] == ["project_name", "address", "area_m2"]
        assert body["guide"] == {"办理地点": "元江县政务服务中心"}
        assert body["materials"][0]["media_types"] == ["application/pdf"]

    async def test_unknown_item_is_404(self, client: httpx.AsyncClient, sessionmaker: Any) -> None:
        r = await client.get("/api/v1/items/NOPE")
        assert r.status_code == 404
        assert r.json()["code"] == "item_not_found"


class TestItemWithdrawnHandler:
    async def test_withdrawal_removes_that_version_but_not_a_newer_one(self, sessionmaker: Any) -> None:
        from datetime import UTC, datetime

        from yiwang_common.contracts.management import ItemWithdrawn
        from yiwang_gateway.catalogue.events import on_item_withdrawn

        async def withdraw(version: int) -> None:
            data = ItemWithdrawn(
                item_code=ITEM_CODE,
                version=version,
                name="x",
                reason="依据废止",
                withdrawn_at=datetime.now(UTC),
            )
            async with session_scope(sessionmaker) as session:
                await on_item_withdrawn(session, envelope(data), data)

        await _publish(sessionmaker, item_published(2))
        await withdraw(1)
        assert (await _stored(sessionmaker)) is not None, "an older withdrawal leaves the newer version"
        await withdraw(2)
        assert (await _stored(sessionmaker)) is None

    async def test_classification_fields_are_kept_as_facets(self, sessionmaker: Any) -> None:
        data = item_published().model_copy(
            update={"exercise_level": "4", "themes": ["规划建设"], "online": True}
        )
        await _publish(sessionmaker, data)
        stored = await _stored(sessionmaker)
        assert stored is not None
        assert stored.facets["exercise_level"] == "4" and stored.facets["themes"] == ["规划建设"]
        assert stored.facets["online"] is True and stored.facets["visits"] is None
