"""门户网页: the portal's pages over the real app (PostgreSQL projection), HTML with its headers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from gateway_support import ITEM_CODE, ORG, PDF, FakeManagement, envelope, item_published

from yiwang_common.contracts.common import MaterialRequirement, Organisation
from yiwang_common.db import session_scope
from yiwang_gateway.catalogue.events import on_item_published
from yiwang_gateway.web import rendering

POLICE = Organisation(name="玉溪市公安局", code="11530400015176000X")
ID_CARD_CODE = "11530400015176000X2000201001000"


async def _publish(sessionmaker: Any, *events: Any) -> None:
    async with session_scope(sessionmaker) as session:
        for data in events:
            await on_item_published(session, envelope(data), data)


@pytest.fixture
async def catalogue(sessionmaker: Any) -> None:
    permit = item_published()
    permit = permit.model_copy(
        update={
            "service_object": ["企业法人", "其他组织"],
            "guide": permit.guide | {"主题分类": ["工程建设"], "办理形式": ["网上办理", "窗口办理"]},
        }
    )
    id_card = item_published(name="居民身份证换领", item_code=ID_CARD_CODE).model_copy(
        update={
            "implementing_org": POLICE,
            "region_code": "530400",
            "service_object": ["自然人"],
            "materials": [MaterialRequirement(code="M01", name="居民户口簿", form="original")],
            "guide": {"主题分类": "证件办理、户籍办理", "办理地点": "玉溪市公安局户政窗口"},
        }
    )
    await _publish(sessionmaker, permit, id_card)


def _is_page(r: httpx.Response, status: int = 200) -> str:
    assert r.status_code == status, r.text[:500]
    assert r.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in r.text
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    return r.text


class TestHome:
    async def test_home_has_search_form_and_both_groups(
        self, client: httpx.AsyncClient, catalogue: None
    ) -> None:
        html = _is_page(await client.get("/"))
        assert 'action="/search" method="get"' in html
        assert '<label for="q"' in html
        assert "个人办事" in html and "法人办事" in html
        # Themes come from the projection: the permit's 工程建设 under 法人, the ID card's under 个人.
        assert "/search?object=legal_person&amp;theme=%E5%B7%A5%E7%A8%8B%E5%BB%BA%E8%AE%BE" in html
        assert "证件办理" in html and "户籍办理" in html

    async def test_no_external_resources(self, client: httpx.AsyncClient, catalogue: None) -> None:
        html = _is_page(await client.get("/"))
        assert "http://" not in html and "https://" not in html and "//cdn" not in html
        assert "<style" not in html and " style=" not in html
        assert "<script>" not in html  # only <script src=…> from our origin


class TestSearch:
    async def test_finds_by_name_part(self, client: httpx.AsyncClient, catalogue: None) -> None:
        html = _is_page(await client.get("/search", params={"q": "身份证"}))
        assert "居民身份证换领" in html and "建筑工程施工许可证核发" not in html
        assert "共找到 1 个事项" in html
        assert f'href="/items/{ID_CARD_CODE}"' in html

    async def test_filters_narrow_and_count(self, client: httpx.AsyncClient, catalogue: None) -> None:
        everything = _is_page(await client.get("/search"))
        assert "共找到 2 个事项" in everything
        by_level = _is_page(await client.get("/search", params={"level": "county"}))
        assert "共找到 1 个事项" in by_level and "建筑工程施工许可证核发" in by_level
        by_dept = _is_page(await client.get("/search", params={"department": POLICE.name}))
        assert "居民身份证换领" in by_dept and "建筑工程施工许可证核发" not in by_dept
        by_theme = _is_page(
            await client.get("/search", params={"theme": "工程建设", "object": "legal_person"})
        )
        assert "共找到 1 个事项" in by_theme and "建筑工程施工许可证核发" in by_theme
        none = _is_page(await client.get("/search", params={"theme": "工程建设", "object": "natural_person"}))
        assert "共找到 0 个事项" in none and "清除筛选" in none

    async def test_a_filter_keeps_the_other_choices_of_its_own_dimension(
        self, client: httpx.AsyncClient, catalogue: None
    ) -> None:
        html = _is_page(await client.get("/search", params={"level": "county"}))
        # Counts of a dimension ignore its own selection: 市级 stays offered, with its count.
        assert '市级 <span class="count">(1)</span>' in html
        assert '县级 <span class="count">(1)</span>' in html
        assert 'name="level" value="county" checked' in html
        # …but follow the other dimensions' selections.
        html = _is_page(await client.get("/search", params={"level": "county", "object": "natural_person"}))
        assert '县级 <span class="count">(0)</span>' in html
        assert '市级 <span class="count">(1)</span>' in html

    async def test_htmx_gets_the_fragment(self, client: httpx.AsyncClient, catalogue: None) -> None:
        r = await client.get("/search", params={"q": "许可"}, headers={"HX-Request": "true"})
        assert r.status_code == 200
        assert r.text.lstrip().startswith('<div id="results-area"')
        assert "<html" not in r.text and "建筑工程施工许可证核发" in r.text
        assert r.headers["vary"] == "HX-Request"

    async def test_user_input_is_escaped(self, client: httpx.AsyncClient, catalogue: None) -> None:
        attack = '<script>alert("x")</script>'
        html = _is_page(await client.get("/search", params={"q": attack, "department": attack}))
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html

    async def test_bad_filter_is_a_friendly_422_page(self, client: httpx.AsyncClient) -> None:
        html = _is_page(await client.get("/search", params={"level": "galaxy"}), 422)
        assert "输入有误" in html and "行使层级" in html
        html = _is_page(await client.get("/search", params={"q": "x" * 101}), 422)
        assert "检索词" in html

    async def test_nul_is_refused_as_a_page(self, client: httpx.AsyncClient) -> None:
        _is_page(await client.get("/search?q=a%00b"), 422)


class TestGuide:
    async def test_guide_shows_what_the_projection_has(
        self, client: httpx.AsyncClient, catalogue: None
    ) -> None:
        html = _is_page(await client.get(f"/items/{ITEM_CODE}"))
        assert '<h1 id="guide-title">建筑工程施工许可证核发</h1>' in html
        assert "我需要准备什么" in html
        for material in ("建筑工程施工许可证申请表", "建设工程规划许可证", "施工组织设计"):
            assert material in html
        assert "视情况" in html  # M03 is optional
        assert "已经办理该建筑工程用地批准手续" in html
        assert "7 个工作日" in html and "5 个工作日" in html and "承诺件" in html
        assert "元江县政务服务中心" in html and ORG.name in html and ORG.code in html
        assert f'<a class="button" href="/items/{ITEM_CODE}/guide.pdf">下载办事指南（PDF）</a>' in html

    async def test_pdf_is_streamed_from_management(
        self, client: httpx.AsyncClient, fake_management: FakeManagement
    ) -> None:
        fake_management.guides[ITEM_CODE] = PDF
        r = await client.get(f"/items/{ITEM_CODE}/guide.pdf")
        assert r.status_code == 200 and r.content == PDF
        assert r.headers["content-type"] == "application/pdf"
        assert r.headers["etag"] == f'"{ITEM_CODE}-v1-pdf"' and r.headers["last-modified"]
        assert r.headers["content-disposition"] == f'inline; filename="{ITEM_CODE}.pdf"'
        assert fake_management.requests[0].url.path == f"/api/v1/catalogue/items/{ITEM_CODE}/guide.pdf"
        again = await client.get(
            f"/items/{ITEM_CODE}/guide.pdf", headers={"If-None-Match": r.headers["etag"]}
        )
        assert again.status_code == 304 and again.content == b""

    async def test_pdf_of_an_unknown_item_is_a_404_page(
        self, client: httpx.AsyncClient, fake_management: FakeManagement
    ) -> None:
        html = _is_page(await client.get("/items/NOPE123/guide.pdf"), 404)
        assert "页面不存在" in html and "NOPE123" in html
        html = _is_page(await client.get("/items/bad%20code/guide.pdf"), 422)
        assert len(fake_management.requests) == 1, "a code management cannot have is not forwarded"

    @pytest.mark.parametrize(
        ("mode", "status"), [("connect_error", 503), ("timeout", 503), ("server_error", 502)]
    )
    async def test_pdf_when_management_is_down_is_a_friendly_page(
        self, client: httpx.AsyncClient, fake_management: FakeManagement, mode: str, status: int
    ) -> None:
        fake_management.mode = mode
        fake_management.guides[ITEM_CODE] = PDF
        html = _is_page(await client.get(f"/items/{ITEM_CODE}/guide.pdf"), status)
        assert "服务暂不可用" in html

    async def test_unknown_item_is_a_404_page(self, client: httpx.AsyncClient, catalogue: None) -> None:
        html = _is_page(await client.get("/items/NOPE123"), 404)
        assert "页面不存在" in html and 'action="/search"' in html

    async def test_unknown_path_is_a_404_page(self, client: httpx.AsyncClient) -> None:
        html = _is_page(await client.get("/no/such/page"), 404)
        assert "页面不存在" in html


class TestApiStaysProblemJson:
    async def test_api_404_is_problem_json(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/api/v1/items/NOPE123")
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
        assert "content-security-policy" not in r.headers
        r = await client.get("/api/v1/no-such-route")
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


async def test_page_failure_is_a_500_page(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("database on fire")

    monkeypatch.setattr("yiwang_gateway.web.endpoints.home_groups", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        html = _is_page(await c.get("/"), 500)
    assert "系统繁忙" in html and "database on fire" not in html


async def test_static_assets_are_served_with_headers(client: httpx.AsyncClient) -> None:
    r = await client.get("/static/vendor/htmx.min.js")
    assert r.status_code == 200 and "javascript" in r.headers["content-type"]
    assert r.text.startswith("/*! htmx 2.0.11")
    assert r.headers["x-content-type-options"] == "nosniff"
    css = await client.get("/static/css/portal.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert rendering.CONTENT_SECURITY_POLICY in r.headers["content-security-policy"]
