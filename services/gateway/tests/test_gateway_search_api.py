"""GET /api/v1/catalogue/search over the real app: PostgreSQL projection → index, and NATS → searchable."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import nats
import pytest
from gateway_support import envelope, item_published, make_settings
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.config import NatsSettings
from yiwang_common.contracts.management import ItemPublished
from yiwang_common.db import session_scope
from yiwang_common.events import ensure_stream
from yiwang_common.events.outbox import serialize
from yiwang_common.testing import nats_url
from yiwang_gateway.catalogue.events import on_item_published
from yiwang_gateway.main import create_app
from yiwang_gateway.search import endpoints
from yiwang_gateway.search.demo import demo_items
from yiwang_gateway.search.schemas import SearchHit, SearchResponse
from yiwang_gateway.search.service import search_service

URL = "/api/v1/catalogue/search"


async def _publish(sessionmaker: async_sessionmaker[AsyncSession], data: ItemPublished) -> None:
    async with session_scope(sessionmaker) as session:
        await on_item_published(session, envelope(data), data)


@pytest.fixture
async def demo(sessionmaker: async_sessionmaker[AsyncSession]) -> list[ItemPublished]:
    """The demo catalogue in the projection table, and the index rebuilt from that table."""
    items = demo_items()
    async with session_scope(sessionmaker) as session:
        for data in items:
            await on_item_published(session, envelope(data), data)
    await search_service.build(sessionmaker, None)
    return items


class TestSearchEndpoint:
    @pytest.mark.parametrize(
        "params",
        [
            {"q": "身份证丢了怎么办"},
            {"q": "sgxk", "region": "530428", "facet": ["level", "object", "theme", "department", "event"]},
            {"q": "", "level": "county", "object": "法人", "limit": 50},
            {"q": "量子计算机"},
        ],
    )
    async def test_the_body_is_exactly_the_documented_model(
        self, client: httpx.AsyncClient, demo: list[ItemPublished], params: dict[str, Any]
    ) -> None:
        # The body is built from values validated when the item was indexed, not from a model per
        # request: every field the model documents is there with its type, and nothing else.
        r = await client.get(URL, params=params)
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        body = r.json()
        model = SearchResponse.model_validate(body)
        assert model.model_dump(mode="json") == body | {"took_ms": model.took_ms}
        assert set(body) == set(SearchResponse.model_fields)
        assert all(set(hit) == set(SearchHit.model_fields) for hit in body["items"])

    async def test_built_from_the_table_and_answers_what_a_citizen_needs(
        self, client: httpx.AsyncClient, demo: list[ItemPublished]
    ) -> None:
        r = await client.get(URL, params={"q": "身份证丢了怎么办"})
        assert r.status_code == 200, r.text
        body = r.json()
        first_two = {i["name"]: i for i in body["items"][:2]}
        assert set(first_two) == {"居民身份证补领", "居民身份证挂失申报"}
        top = first_two["居民身份证补领"]
        assert (
            top["department"] == "元江县公安局" and top["level"] == "county" and top["level_name"] == "县级"
        )
        assert (top["promised_limit_days"], top["online"], top["fee"], top["free"]) == (
            20,
            True,
            "40元",
            False,
        )
        assert "<em>居民身份证</em>" in top["name_highlight"]
        assert "<em>" in top["snippet"]
        assert body["total"] >= 3 and body["interpreted_as"][0]["concept"] == "身份证"

    async def test_filters_combine_and_page(
        self, client: httpx.AsyncClient, demo: list[ItemPublished]
    ) -> None:
        r = await client.get(URL, params={"q": "许可", "object": "法人", "level": "city", "limit": 2})
        body = r.json()
        assert r.status_code == 200 and len(body["items"]) == 2 and body["total"] > 2
        assert all(i["level"] == "city" for i in body["items"])
        r2 = await client.get(
            URL, params={"q": "许可", "object": "法人", "level": "city", "limit": 2, "offset": 2}
        )
        assert {i["item_code"] for i in body["items"]}.isdisjoint(
            {i["item_code"] for i in r2.json()["items"]}
        )
        r3 = await client.get(URL, params={"theme": ["婚姻登记"], "region": "530428", "region_scope": "self"})
        assert {i["name"] for i in r3.json()["items"]} == {
            "内地居民结婚登记",
            "内地居民离婚登记",
            "补领婚姻登记证",
        }
        r4 = await client.get(URL, params={"q": "养老保险待遇", "region": "530000", "region_scope": "self"})
        assert [i["region_code"] for i in r4.json()["items"]] == ["530000"]

    async def test_facet_counts_ignore_their_own_filter(
        self, client: httpx.AsyncClient, demo: list[ItemPublished]
    ) -> None:
        params = {"q": "许可", "object": "法人", "level": "city", "facet": ["level", "object"]}
        body = (await client.get(URL, params=params)).json()
        assert "facets" in body and set(body["facets"]) == {"level", "object"}
        assert body["facets"]["level"]["city"] == body["total"]
        everywhere = (await client.get(URL, params={"q": "许可", "object": "法人"})).json()["total"]
        assert sum(body["facets"]["level"].values()) == everywhere > body["total"]
        at_city = (await client.get(URL, params={"q": "许可", "level": "city"})).json()["total"]
        assert set(body["facets"]["object"]) <= {"natural_person", "legal_person"}
        assert body["facets"]["object"]["legal_person"] == body["total"] <= at_city
        assert (await client.get(URL, params={"q": "许可"})).json()["facets"] == {}
        assert (await client.get(URL, params={"facet": "colour"})).status_code == 422

    async def test_published_item_is_searchable_and_a_newer_version_replaces_it(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        demo: list[ItemPublished],
    ) -> None:
        await _publish(sessionmaker, item_published(item_code="NEW1", name="城镇污水排入排水管网许可"))
        r = await client.get(URL, params={"q": "污水排放"})
        assert r.json()["items"][0]["item_code"] == "NEW1"
        await _publish(sessionmaker, item_published(2, item_code="NEW1", name="城市建筑垃圾处置核准"))
        await _publish(
            sessionmaker, item_published(1, item_code="NEW1", name="城镇污水排入排水管网许可")
        )  # stale
        codes = [i["item_code"] for i in (await client.get(URL, params={"q": "污水排放"})).json()["items"]]
        assert "NEW1" not in codes
        r = await client.get(URL, params={"q": "建筑垃圾"})
        assert r.json()["items"][0]["item_code"] == "NEW1"

    async def test_a_repeated_query_is_answered_again_after_the_index_changes(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        demo: list[ItemPublished],
    ) -> None:
        # The answer cache: the same question twice gives the same answer, but never an answer
        # from before a publication or a withdrawal.
        params = {"q": "排水许可", "limit": 5}
        first = (await client.get(URL, params=params)).json()
        assert first["items"] == (await client.get(URL, params=params)).json()["items"]
        assert "DRAIN1" not in [i["item_code"] for i in first["items"]]
        await _publish(sessionmaker, item_published(item_code="DRAIN1", name="城镇污水排入排水管网许可"))
        after = [i["item_code"] for i in (await client.get(URL, params=params)).json()["items"]]
        assert after[0] == "DRAIN1"
        assert search_service.index is not None and search_service.index.remove("DRAIN1")
        gone = [i["item_code"] for i in (await client.get(URL, params=params)).json()["items"]]
        assert "DRAIN1" not in gone

    @pytest.mark.parametrize(
        "params",
        [
            {"q": "x" * 101},
            {"q": "身份证\x07"},
            {"q": "身份证\u200b"},
            {"region": "5304"},
            {"level": "national"},
            {"object": "机器人"},
            {"limit": 0},
            {"limit": 51},
            {"offset": -1},
        ],
    )
    async def test_bad_parameters_are_problem_json(
        self, client: httpx.AsyncClient, demo: list[ItemPublished], params: dict[str, Any]
    ) -> None:
        r = await client.get(URL, params=params)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")

    @pytest.mark.parametrize(
        ("query", "plain"),
        [
            ("q=%E8%BA%AB%E4%BB%BD%E8%AF%81%E4%B8%A2%E4%BA%86", True),
            ("q=sgxk&region=530428&facet=level&facet=object&limit=5&offset=1", True),
            ("q=&level=county&object=%E6%B3%95%E4%BA%BA&object=natural_person&limit=50&offset=1000", True),
            ("q=shebao&region=530400&region_scope=down&theme=&event=%E7%BB%93%E5%A9%9A&unknown=1", True),
            (
                "department=%E5%85%83%E6%B1%9F%E5%8E%BF%E5%85%AC%E5%AE%89%E5%B1%80&q=+%E7%A4%BE%E4%BF%9D+",
                True,
            ),
            ("q=a&q=%E7%A4%BE%E4%BF%9D", False),
            ("limit=010", False),
            ("limit=+5", False),
            ("offset=1001", False),
            ("region=%EF%BC%95%EF%BC%93%EF%BC%90%EF%BC%94%EF%BC%92%EF%BC%98", False),
            ("region=", False),
            ("region_scope=sideways", False),
            ("facet=colour", False),
            ("level=county&level=city&level=province&level=county", False),
            ("q=" + "%E8%AF%81" * 101, False),
            ("q=%E7%A4%BE%00", False),
            ("q=%E7%A4%BE%E4%BF%9D%1B", True),
        ],
    )
    async def test_the_direct_path_answers_as_the_declared_parameters_do(
        self,
        client: httpx.AsyncClient,
        demo: list[ItemPublished],
        monkeypatch: pytest.MonkeyPatch,
        query: str,
        plain: bool,
    ) -> None:
        # Plainly valid query strings skip FastAPI's parameter solving; anything else goes through
        # it. Either way the status and the body are what the declared parameters give.
        scope = {"query_string": query.encode(), "raw_path": URL.encode(), "headers": []}
        assert (endpoints.plain_params(scope) is not None) == plain
        direct = await client.get(f"{URL}?{query}")
        monkeypatch.setattr(endpoints, "plain_params", lambda scope: None)
        declared = await client.get(f"{URL}?{query}")
        assert direct.status_code == declared.status_code
        # Every header, in order; the request id is each answer's own, and took_ms may differ
        # in its digits, so the length is the body's own.
        own = {b"x-request-id": None, b"content-length": None}
        assert [(k, own.get(k, v)) for k, v in direct.headers.raw] == [
            (k, own.get(k, v)) for k, v in declared.headers.raw
        ]
        for r in (direct, declared):
            assert r.headers["x-request-id"] and int(r.headers["content-length"]) == len(r.content)
        a, b = direct.json(), declared.json()
        if direct.status_code == 200:
            a.pop("took_ms"), b.pop("took_ms")
        else:
            for problem in (a, b):
                problem.pop("instance", None), problem.pop("request_id", None)
        assert a == b

    async def test_plain_queries_are_answered_under_the_middlewares_without_fastapi(
        self, client: httpx.AsyncClient, demo: list[ItemPublished]
    ) -> None:
        # DirectSearch answers a plain GET itself (the app under it is never called) and hands
        # anything else on; the common middlewares around it still act on its answers.
        seen: list[str] = []

        async def declared(scope: Any, receive: Any, send: Any) -> None:
            seen.append(scope["query_string"].decode())

        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        direct = endpoints.DirectSearch(declared)
        for query, method, headers in [
            ("q=%E8%BA%AB%E4%BB%BD%E8%AF%81", "GET", []),
            ("q=%E8%BA%AB%E4%BB%BD%E8%AF%81", "HEAD", []),
            ("q=%E7%A4%BE%E4%BF%9D%1B", "GET", []),  # control character: the declared 422
            ("limit=0", "GET", []),
            ("q=x", "GET", [(b"content-length", b"2")]),
        ]:
            scope = {
                "type": "http",
                "method": method,
                "path": URL,
                "raw_path": URL.encode(),
                "query_string": query.encode(),
                "headers": headers,
            }
            await direct(scope, None, send)
        # Only the first, a plain GET, was answered directly (the HEAD of the same query was not).
        assert seen == ["q=%E8%BA%AB%E4%BB%BD%E8%AF%81", "q=%E7%A4%BE%E4%BF%9D%1B", "limit=0", "q=x"]
        assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
        assert sent[0]["status"] == 200
        assert SearchResponse.model_validate_json(sent[1]["body"]).items[0].name.startswith("居民身份证")
        # Through the whole app: a caller's request id comes back, a declared oversized body is 413.
        r = await client.get(URL, params={"q": "身份证"}, headers={"X-Request-ID": "abc-123"})
        assert r.status_code == 200 and r.headers["x-request-id"] == "abc-123"
        r = await client.get(URL, params={"q": "身份证"}, headers={"Content-Length": str(10**9)})
        assert r.status_code == 413 and r.headers["content-type"].startswith("application/problem+json")

    async def test_control_character_message_is_chinese(
        self, client: httpx.AsyncClient, demo: list[ItemPublished]
    ) -> None:
        r = await client.get(URL, params={"q": "社保\x1b"})
        assert r.json()["code"] == "bad_search_query" and "控制字符" in r.json()["detail"]

    async def test_documented_in_openapi(self, client: httpx.AsyncClient) -> None:
        spec = (await client.get("/openapi.json")).json()
        op = spec["paths"][URL]["get"]
        params = {p["name"] for p in op["parameters"]}
        assert {
            "q",
            "theme",
            "department",
            "level",
            "object",
            "region",
            "region_scope",
            "event",
            "limit",
            "offset",
        } <= params
        assert "422" in op["responses"] and "503" in op["responses"]


async def test_item_published_on_the_bus_becomes_searchable(database_url: str) -> None:
    """Real JetStream: management's event → the gateway's consumer → projection → index."""
    app = create_app(make_settings(database_url).model_copy(update={"run_workers": True}))
    data = item_published(item_code="BUS1", name="公共场所卫生许可证延续")
    async with app.router.lifespan_context(app):
        nc = await nats.connect(nats_url())
        try:
            js = nc.jetstream()
            await ensure_stream(js, "management", NatsSettings(url=nats_url()))
            env = envelope(data)
            await js.publish(data.subject, serialize(env), headers={"Nats-Msg-Id": str(env.id)})
        finally:
            await nc.close()
        start = time.monotonic()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
            while True:
                items = (await c.get(URL, params={"q": "卫生许可延续"})).json()["items"]
                if items and items[0]["item_code"] == "BUS1":
                    break
                assert time.monotonic() - start < 20, "the published item never became searchable"
                await asyncio.sleep(0.05)
