"""Item catalogue: publishing versions, public reads, the admin write, and the demo catalogue."""

from __future__ import annotations

import httpx
import pytest
from management_factories import ACCEPTOR, ADMIN, ITEM_CODE, auth, count, outbox
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.db import session_scope
from yiwang_management.config import Settings
from yiwang_management.demo import load_demo
from yiwang_management.demo_items import demo_items
from yiwang_management.item.errors import ItemVersionConflict
from yiwang_management.item.models import Item
from yiwang_management.item.schemas import ItemCreate
from yiwang_management.item.service import publish_item

SOURCE = "urn:yiwang:530428:management"
PUBLISHED = "yiwang.management.item.published.v1"


def construction(version: int = 1) -> ItemCreate:
    return demo_items()[0].model_copy(update={"version": version})


class TestPublishItem:
    async def test_publish_writes_item_and_event_together(
        self, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        async with session_scope(sessionmaker) as session:
            item, published = await publish_item(session, construction(), source=SOURCE)
        assert published and item.item_code == ITEM_CODE
        (event,) = await outbox(sessionmaker, PUBLISHED)
        assert event["subject"] == ITEM_CODE
        assert event["source"] == SOURCE
        assert event["data"]["statutory_limit_days"] == 7
        assert event["data"]["promised_limit_days"] == 5
        assert [m["code"] for m in event["data"]["materials"]][:2] == ["M01", "M02"]

    async def test_same_version_again_changes_nothing(
        self, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        for _ in range(2):
            async with session_scope(sessionmaker) as session:
                await publish_item(session, construction(), source=SOURCE)
        assert len(await outbox(sessionmaker, PUBLISHED)) == 1

    async def test_newer_version_replaces_and_is_published(
        self, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        async with session_scope(sessionmaker) as session:
            await publish_item(session, construction(1), source=SOURCE)
        async with session_scope(sessionmaker) as session:
            item, published = await publish_item(session, construction(2), source=SOURCE)
        assert published and item.version == 2
        assert [e["data"]["version"] for e in await outbox(sessionmaker, PUBLISHED)] == [1, 2]

    async def test_older_version_is_refused(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        async with session_scope(sessionmaker) as session:
            await publish_item(session, construction(3), source=SOURCE)
        with pytest.raises(ItemVersionConflict):
            async with session_scope(sessionmaker) as session:
                await publish_item(session, construction(2), source=SOURCE)
        assert len(await outbox(sessionmaker, PUBLISHED)) == 1


class TestItemEndpoints:
    async def test_list_paginates_items_in_force(self, client: httpx.AsyncClient, settings: Settings) -> None:
        await load_demo(settings)
        # The three 元江县住建局 items and the 98 other rows of the demo catalogue (catalogue/data).
        body = (await client.get("/items", params={"limit": 50})).json()
        assert body["pagination"] == {"total_count": 101, "max_page": 3}
        assert len(body["items"]) == 50
        third = (await client.get("/items", params={"limit": 50, "page": 3})).json()
        assert len(third["items"]) == 1

    async def test_list_filters_by_name(self, client: httpx.AsyncClient, settings: Settings) -> None:
        await load_demo(settings)
        body = (await client.get("/items", params={"q": "建筑工程施工许可"})).json()
        assert [i["item_code"] for i in body["items"]] == [ITEM_CODE]
        assert body["items"][0]["implementing_org"]["code"] == "11530428015176456L"

    async def test_like_wildcards_in_query_match_literally(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        await load_demo(settings)
        body = (await client.get("/items", params={"q": "%"})).json()
        assert body["pagination"]["total_count"] == 0

    async def test_detail_has_the_whole_guide(self, client: httpx.AsyncClient, item: str) -> None:
        response = await client.get(f"/items/{item}")
        assert response.status_code == 200
        body = response.json()
        assert body["scope"] == "元江县辖区内建设的(房屋建筑与市政工程)。"
        assert len(body["conditions"]) == 7
        assert "来源说明" in body["guide"]
        assert "工程名称" in body["form_schema"]["properties"]

    async def test_unknown_item_is_404_problem(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/items/NOSUCHITEM")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "item_not_found"

    @pytest.mark.parametrize("params", [{"page": 0}, {"limit": 101}, {"limit": "x"}, {"q": "长" * 101}])
    async def test_bad_query_is_422(self, client: httpx.AsyncClient, params: dict[str, str | int]) -> None:
        response = await client.get("/items", params=params)
        assert response.status_code == 422
        assert response.json()["code"] == "validation_failed"


class TestPutItem:
    def body(self, version: int) -> dict[str, object]:
        return construction(version).model_dump(mode="json", exclude={"item_code"})

    async def test_admin_publishes_a_new_version(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], item: str
    ) -> None:
        response = await client.put(f"/items/{item}", json=self.body(2), headers=auth(ADMIN))
        assert response.status_code == 200
        assert response.json()["version"] == 2
        assert len(await outbox(sessionmaker, PUBLISHED)) == 1

    async def test_a_put_item_is_a_published_catalogue_version_with_a_guide(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        # No item before: the legacy write alone makes the entry, the version and the guide.
        for version in (1, 2):
            response = await client.put(f"/items/{ITEM_CODE}", json=self.body(version), headers=auth(ADMIN))
            assert response.status_code == 200, response.text
        history = await client.get(f"/catalogue/items/{ITEM_CODE}/versions", headers=auth(ADMIN))
        assert [(v["version"], v["status"]) for v in history.json()] == [(1, "superseded"), (2, "published")]
        guide = await client.get(f"/catalogue/items/{ITEM_CODE}/guide.pdf")
        assert guide.status_code == 200 and guide.content.startswith(b"%PDF")
        # The same version again changes nothing.
        again = await client.put(f"/items/{ITEM_CODE}", json=self.body(2), headers=auth(ADMIN))
        assert again.status_code == 200
        assert (
            len((await client.get(f"/catalogue/items/{ITEM_CODE}/versions", headers=auth(ADMIN))).json()) == 2
        )

    async def test_lower_version_is_409(self, client: httpx.AsyncClient, item: str) -> None:
        await client.put(f"/items/{item}", json=self.body(3), headers=auth(ADMIN))
        response = await client.put(f"/items/{item}", json=self.body(2), headers=auth(ADMIN))
        assert response.status_code == 409
        assert response.json()["code"] == "item_version_conflict"
        assert response.json()["current_version"] == 3

    @pytest.mark.parametrize(
        ("change", "stored"),
        [
            ({"item_type": "01"}, "行政许可"),
            ({"item_type": "行政审批"}, None),
            ({"region_code": "990428"}, None),
        ],
    )
    async def test_codes_are_checked_not_free_strings(
        self, client: httpx.AsyncClient, item: str, change: dict[str, str], stored: str | None
    ) -> None:
        response = await client.put(f"/items/{item}", json=self.body(2) | change, headers=auth(ADMIN))
        if stored is None:
            assert response.status_code == 422
        else:
            assert response.status_code == 200 and response.json()["item_type"] == stored

    async def test_non_admin_is_403(self, client: httpx.AsyncClient, item: str) -> None:
        response = await client.put(f"/items/{item}", json=self.body(2), headers=auth(ACCEPTOR))
        assert response.status_code == 403

    async def test_anonymous_is_401(self, client: httpx.AsyncClient, item: str) -> None:
        response = await client.put(f"/items/{item}", json=self.body(2))
        assert response.status_code == 401

    async def test_invalid_item_changes_nothing(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], item: str
    ) -> None:
        body = self.body(2) | {"promised_limit_days": 30}
        response = await client.put(f"/items/{item}", json=body, headers=auth(ADMIN))
        assert response.status_code == 422
        async with session_scope(sessionmaker) as session:
            stored = await session.get(Item, item)
            assert stored is not None and stored.version == 1
        assert await outbox(sessionmaker, PUBLISHED) == []

    async def test_malformed_item_code_is_422(self, client: httpx.AsyncClient) -> None:
        response = await client.put("/items/bad-code!", json=self.body(1), headers=auth(ADMIN))
        assert response.status_code == 422


class TestDemoCatalogue:
    async def test_load_demo_is_idempotent(
        self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        await load_demo(settings)
        await load_demo(settings)
        assert await count(sessionmaker, Item) == 101
        assert len(await outbox(sessionmaker, PUBLISHED)) == 101

    def test_construction_permit_follows_the_guide(self) -> None:
        permit = demo_items()[0]
        assert permit.item_code == "11530428015176456L2000109003000"
        assert permit.basic_code == "000109003000"
        assert permit.conditions[0] == "(1)属于元江县辖区范围内的建筑工程项目;"
        assert any("第七条" in basis for basis in permit.legal_basis)
        assert [m.code for m in permit.materials] == [f"M0{i}" for i in range(1, 9)]
        assert (permit.statutory_limit_days, permit.promised_limit_days) == (7, 5)
        assert "住建部令第18号" in permit.guide["来源说明"]
