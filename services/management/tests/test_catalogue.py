"""Catalogue (事项清单): 目录清单 entries, the version workflow and who may do each step, history and
diff, publishing onto the item in force, running cases keeping their version, and the demo catalogue."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from management_factories import (
    ACCEPTOR,
    ITEM_CODE,
    ORG_CODE,
    OTHER_ACCEPTOR,
    auth,
    load_case,
    outbox,
    register,
    submitted,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.auth import Principal
from yiwang_common.db import session_scope
from yiwang_management.case.handlers import CaseEventHandlers
from yiwang_management.catalogue.demo import demo_catalogue, from_item
from yiwang_management.catalogue.models import ItemVersion
from yiwang_management.config import Settings
from yiwang_management.demo import load_demo
from yiwang_management.demo_items import demo_items
from yiwang_management.item.models import ITEM_CANCELLED, Item

PUBLISHED = "yiwang.management.item.published.v1"
WITHDRAWN = "yiwang.management.item.withdrawn.v1"
# The centre administrator of another unit: approves, but does not own the entry.
CENTRE = Principal(sub="centre", name="中心管理员", kind="staff", roles=frozenset({"admin"}), org_code="X")

CONSTRUCTION = from_item(demo_items()[0])


def _entry() -> dict[str, Any]:
    return CONSTRUCTION.entry.model_dump(mode="json")


def _content(**changes: Any) -> dict[str, Any]:
    return CONSTRUCTION.content.model_dump(mode="json") | changes


async def _compile(client: httpx.AsyncClient) -> None:
    r = await client.post("/catalogue/entries", json=_entry(), headers=auth(CENTRE))
    assert r.status_code == 201, r.text


async def _draft(client: httpx.AsyncClient, **changes: Any) -> httpx.Response:
    body = {"item_code": ITEM_CODE, "content": _content(**changes)}
    return await client.post("/catalogue/items", json=body, headers=auth(ACCEPTOR))


async def _step(
    client: httpx.AsyncClient, version: int, action: str, who: Principal, note: str = ""
) -> httpx.Response:
    path = f"/catalogue/items/{ITEM_CODE}/versions/{version}/{action}"
    body = {"note": note} if action in {"return", "withdraw"} else None
    return await client.post(path, json=body, headers=auth(who))


async def _publish_new(client: httpx.AsyncClient, **changes: Any) -> int:
    r = await _draft(client, **changes)
    assert r.status_code == 201, r.text
    version = int(r.json()["version"])
    for action, who in (("submit", ACCEPTOR), ("approve", CENTRE), ("publish", CENTRE)):
        r = await _step(client, version, action, who)
        assert r.status_code == 200, (action, r.text)
    return version


class TestCatalogueEntry:
    async def test_centre_compiles_and_repeating_is_idempotent(self, client: httpx.AsyncClient) -> None:
        await _compile(client)
        await _compile(client)
        r = await client.get(f"/catalogue/entries/{CONSTRUCTION.entry.basic_code}")
        assert r.json()["item_type"] == "01" and r.json()["item_type_name"] == "行政许可"

    async def test_different_entry_on_a_used_basic_code_is_refused(self, client: httpx.AsyncClient) -> None:
        await _compile(client)
        r = await client.post(
            "/catalogue/entries", json=_entry() | {"name": "别的事项"}, headers=auth(CENTRE)
        )
        assert r.status_code == 409

    async def test_only_the_centre_compiles(self, client: httpx.AsyncClient) -> None:
        r = await client.post("/catalogue/entries", json=_entry(), headers=auth(ACCEPTOR))
        assert r.status_code == 403

    async def test_item_type_must_be_a_standard_code(self, client: httpx.AsyncClient) -> None:
        r = await client.post(
            "/catalogue/entries", json=_entry() | {"item_type": "行政审批"}, headers=auth(CENTRE)
        )
        assert r.status_code == 422


class TestVersionRules:
    async def test_owner_drafts_centre_approves_and_publishes(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        await _compile(client)
        version = await _publish_new(client)
        r = await client.get(f"/catalogue/items/{ITEM_CODE}/versions/{version}", headers=auth(CENTRE))
        body = r.json()
        assert body["status"] == "published" and body["approved_by"] == "centre"
        assert body["dimensions"]["事项性质"] == "行政权力事项"
        assert body["dimensions"]["服务形式"] == "线上线下一体化办理"
        assert body["dimensions"]["行政管辖"] == "定点办理"
        async with session_scope(sessionmaker) as session:
            item = await session.get(Item, ITEM_CODE)
            assert item is not None and item.version == version
        (event,) = await outbox(sessionmaker, PUBLISHED)
        assert event["data"]["version"] == version
        assert event["data"]["item_type_code"] == "01" and event["data"]["exercise_level"] == "4"
        assert event["data"]["region_name"] == "元江哈尼族彝族傣族自治县"
        assert event["data"]["online"] is True and event["data"]["fee_charged"] is False
        assert event["data"]["materials"][0]["material_type"] == "1"

    async def test_staff_of_another_body_may_not_draft_or_submit(self, client: httpx.AsyncClient) -> None:
        await _compile(client)
        body = {"item_code": ITEM_CODE, "content": _content()}
        r = await client.post("/catalogue/items", json=body, headers=auth(OTHER_ACCEPTOR))
        assert r.status_code == 403 and r.json()["code"] == "item_not_owner"
        version = (await _draft(client)).json()["version"]
        assert (await _step(client, version, "submit", OTHER_ACCEPTOR)).status_code == 403
        assert (await _step(client, version, "submit", CENTRE)).status_code == 403

    async def test_owner_may_not_approve_or_publish(self, client: httpx.AsyncClient) -> None:
        await _compile(client)
        version = (await _draft(client)).json()["version"]
        assert (await _step(client, version, "submit", ACCEPTOR)).status_code == 200
        assert (await _step(client, version, "approve", ACCEPTOR)).status_code == 403
        assert (await _step(client, version, "approve", CENTRE)).status_code == 200
        assert (await _step(client, version, "publish", ACCEPTOR)).status_code == 403

    async def test_steps_out_of_order_are_refused(self, client: httpx.AsyncClient) -> None:
        await _compile(client)
        version = (await _draft(client)).json()["version"]
        assert (await _step(client, version, "approve", CENTRE)).status_code == 409
        assert (await _step(client, version, "publish", CENTRE)).status_code == 409
        await _step(client, version, "submit", ACCEPTOR)
        r = await client.put(
            f"/catalogue/items/{ITEM_CODE}/versions/{version}", json=_content(), headers=auth(ACCEPTOR)
        )
        assert r.status_code == 409, "a submitted version is frozen"
        assert (await _step(client, version, "withdraw", CENTRE)).status_code == 409

    async def test_one_open_version_at_a_time(self, client: httpx.AsyncClient) -> None:
        await _compile(client)
        assert (await _draft(client)).status_code == 201
        assert (await _draft(client)).status_code == 409

    async def test_centre_sends_back_with_a_reason_and_the_owner_edits(
        self, client: httpx.AsyncClient
    ) -> None:
        await _compile(client)
        version = (await _draft(client)).json()["version"]
        await _step(client, version, "submit", ACCEPTOR)
        r = await _step(client, version, "return", CENTRE, note="承诺时限请再压缩")
        assert r.json()["status"] == "draft" and r.json()["note"] == "承诺时限请再压缩"
        r = await client.put(
            f"/catalogue/items/{ITEM_CODE}/versions/{version}",
            json=_content(promised_limit_days=3),
            headers=auth(ACCEPTOR),
        )
        assert r.status_code == 200 and r.json()["content"]["promised_limit_days"] == 3

    async def test_codes_are_checked(self, client: httpx.AsyncClient) -> None:
        await _compile(client)
        body = {"item_code": ITEM_CODE[:-1] + "1", "content": _content()}
        r = await client.post("/catalogue/items", json=body, headers=auth(ACCEPTOR))
        assert r.status_code == 422 and r.json()["code"] == "item_code_invalid"
        r = await _draft(client, region_code="990428")
        assert r.status_code == 422
        r = await _draft(client, service_objects=["自然人"])
        assert r.status_code == 422, "codes, not names"
        r = await _draft(client, fee_charged=True)
        assert r.status_code == 422, "a fee needs its rate and basis"
        r = await _draft(client, promised_limit_days=30)
        assert r.status_code == 422

    async def test_publishing_supersedes_and_withdrawing_takes_out_of_force(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        await _compile(client)
        first = await _publish_new(client)
        second = await _publish_new(client, promised_limit_days=4)
        r = await client.get(f"/catalogue/items/{ITEM_CODE}/versions", headers=auth(CENTRE))
        assert [(v["version"], v["status"]) for v in r.json()] == [
            (first, "superseded"),
            (second, "published"),
        ]
        r = await _step(client, second, "withdraw", CENTRE, note="依据废止")
        assert r.json()["status"] == "withdrawn"
        async with session_scope(sessionmaker) as session:
            item = await session.get(Item, ITEM_CODE)
            assert item is not None and item.status == ITEM_CANCELLED
        (event,) = await outbox(sessionmaker, WITHDRAWN)
        assert event["data"]["version"] == second and event["data"]["reason"] == "依据废止"


class TestHistoryAndDiff:
    async def test_diff_names_each_changed_element(self, client: httpx.AsyncClient) -> None:
        await _compile(client)
        first = await _publish_new(client)
        materials = _content()["materials"]
        materials[1] = materials[1] | {"shareable": True}
        second = await _publish_new(client, promised_limit_days=4, materials=materials, appointment=True)
        r = await client.get(
            f"/catalogue/items/{ITEM_CODE}/diff", params={"from": first, "to": second}, headers=auth(CENTRE)
        )
        assert r.status_code == 200
        changes = {c["path"]: (c["before"], c["after"]) for c in r.json()["changes"]}
        assert changes == {
            "/promised_limit_days": (5, 4),
            "/materials/1/shareable": (False, True),
            "/appointment": (False, True),
        }

    async def test_drafts_are_not_public(self, client: httpx.AsyncClient) -> None:
        await _compile(client)
        version = (await _draft(client)).json()["version"]
        for path in (f"versions/{version}", "versions", "diff?from=1&to=1"):
            assert (await client.get(f"/catalogue/items/{ITEM_CODE}/{path}")).status_code == 401, path

    async def test_unknown_version_is_404(self, client: httpx.AsyncClient) -> None:
        r = await client.get(
            f"/catalogue/items/{ITEM_CODE}/diff", params={"from": 1, "to": 2}, headers=auth(CENTRE)
        )
        assert r.status_code == 404


class TestRunningCaseKeepsItsVersion:
    async def test_case_registered_on_v1_keeps_v1_after_v2_is_published(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
    ) -> None:
        await _compile(client)
        first = await _publish_new(client)
        case_no = await register(sessionmaker, handlers, submitted())
        fewer = _content()["materials"][:3]
        second = await _publish_new(client, materials=fewer, statutory_limit_days=6, promised_limit_days=3)
        assert second > first
        case = await load_case(sessionmaker, case_no)
        assert case.item_version == first
        assert len(case.required_materials) == 8 and case.promised_limit_days == 5
        later = await register(sessionmaker, handlers, submitted(["M01", "M02", "M03"]))
        assert (await load_case(sessionmaker, later)).item_version == second


class TestDemoCatalogue:
    def test_covers_three_levels_and_regions_with_valid_codes(self) -> None:
        items = demo_catalogue()
        assert {i.content.region_code for i in items} == {"530000", "530400", "530428"}
        assert {i.content.exercise_level.label for i in items} == {"省级", "市级", "县级"}
        assert len({i.entry.item_type for i in items}) >= 5
        assert all(i.content.check_codes(i.item_code) is None for i in items)

    async def test_loads_through_the_workflow_and_reloading_changes_nothing(
        self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        await load_demo(settings)
        await load_demo(settings)
        async with session_scope(sessionmaker) as session:
            statuses = (await session.execute(select(ItemVersion.status))).scalars().all()
            item = await session.get(Item, ITEM_CODE)
        assert len(statuses) == 101 and set(statuses) == {"published"}
        assert item is not None and item.org_code == ORG_CODE and len(item.materials) == 8
        assert len(await outbox(sessionmaker, PUBLISHED)) == 101

    async def test_minimal_demo_is_the_three_housing_items(
        self, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        await load_demo(settings.model_copy(update={"demo_catalogue": "minimal"}))
        async with session_scope(sessionmaker) as session:
            codes = (await session.execute(select(ItemVersion.item_code))).scalars().all()
        assert ITEM_CODE in codes and len(codes) == 3

    async def test_staff_list_their_body_and_the_centre_every_body(self, client: httpx.AsyncClient) -> None:
        await _compile(client)
        assert (await _draft(client)).status_code == 201
        r = await client.get("/catalogue/versions", headers=auth(CENTRE))
        assert r.status_code == 200 and [v["item_code"] for v in r.json()["items"]] == [ITEM_CODE]
        r = await client.get("/catalogue/versions", headers=auth(ACCEPTOR))
        assert len(r.json()["items"]) == 1
        r = await client.get("/catalogue/versions", headers=auth(OTHER_ACCEPTOR))
        assert r.json()["items"] == [], "another body sees none of ours"


@pytest.fixture(autouse=True)
def _no_item_cache() -> None:
    # Registration keeps in-process copies of items; tests publish versions under it on purpose.
    from yiwang_management.item import cache

    cache._snapshots.clear()
