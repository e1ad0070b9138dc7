"""办事指南: the guide of a published version as JSON, HTML and PDF, generated from the item data."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from management_factories import ACCEPTOR, ITEM_CODE, auth
from pypdf import PdfReader

from yiwang_common.auth import Principal
from yiwang_management.catalogue.demo import from_item
from yiwang_management.demo_items import demo_items
from yiwang_management.guide import rendering
from yiwang_management.guide.errors import GuideFontMissing

CENTRE = Principal(sub="centre", name="中心管理员", kind="staff", roles=frozenset({"admin"}), org_code="X")
CONSTRUCTION = from_item(demo_items()[0])
GUIDE = f"/catalogue/items/{ITEM_CODE}/guide"


async def _publish(client: httpx.AsyncClient, **changes: Any) -> int:
    r = await client.post(
        "/catalogue/entries", json=CONSTRUCTION.entry.model_dump(mode="json"), headers=auth(CENTRE)
    )
    assert r.status_code == 201, r.text
    content = CONSTRUCTION.content.model_dump(mode="json") | changes
    r = await client.post(
        "/catalogue/items", json={"item_code": ITEM_CODE, "content": content}, headers=auth(ACCEPTOR)
    )
    assert r.status_code == 201, r.text
    version = int(r.json()["version"])
    for action, who in (("submit", ACCEPTOR), ("approve", CENTRE), ("publish", CENTRE)):
        r = await client.post(f"/catalogue/items/{ITEM_CODE}/versions/{version}/{action}", headers=auth(who))
        assert r.status_code == 200, (action, r.text)
    return version


def _elements(body: dict[str, Any]) -> dict[str, list[str]]:
    return {e["key"]: e["lines"] for e in body["elements"]}


class TestGuideJson:
    async def test_has_the_elements_and_the_materials_checklist(self, client: httpx.AsyncClient) -> None:
        fees = [{"name": "工本费", "standard": "每证 10 元", "basis": "某省价格主管部门文件"}]
        version = await _publish(client, fee_charged=True, fees=fees, hours="周一至周五 9:00-17:00")
        r = await client.get(GUIDE)
        assert r.status_code == 200, r.text
        body = r.json()
        content = CONSTRUCTION.content
        assert (body["item_code"], body["version"], body["name"]) == (
            ITEM_CODE,
            version,
            "建筑工程施工许可证核发",
        )
        elements = _elements(body)
        # 六公开: 部门, 事项, 程序, 材料 (below), 时限, 收费.
        assert elements["事项名称"] == ["建筑工程施工许可证核发"]
        assert content.implementing_org.name in elements["实施主体"][0]
        assert elements["设定依据"] == list(CONSTRUCTION.entry.legal_basis)
        assert elements["办理流程"][0].startswith(content.process[0].name)
        assert elements["办结时限"][:2] == [
            f"法定办结时限：{content.statutory_limit_days} 个工作日",
            f"承诺办结时限：{content.promised_limit_days} 个工作日",
        ]
        assert elements["收费标准"] == ["工本费：每证 10 元"] and elements["收费依据"] == [
            "某省价格主管部门文件"
        ]
        assert elements["办理地点"] == [content.place] and elements["办理时间"] == ["周一至周五 9:00-17:00"]
        assert elements["受理条件"] == list(content.conditions)
        materials = body["materials"]
        assert [m["name"] for m in materials] == [m.name for m in content.materials]
        first = materials[0]
        assert {"material_type", "source", "copies", "required", "electronic_required", "shareable"} <= set(
            first
        )

    async def test_empty_optional_elements_are_left_out(self, client: httpx.AsyncClient) -> None:
        await _publish(client, quantity_limit="", review_standard="", fees=[], fee_charged=False)
        elements = _elements((await client.get(GUIDE)).json())
        assert "数量限制" not in elements and "审查标准" not in elements and "收费依据" not in elements
        assert elements["收费标准"] == ["不收费"], "六公开: the fee standard is always stated"

    async def test_unknown_item_is_a_404_problem(self, client: httpx.AsyncClient) -> None:
        for suffix in ("", ".html", ".pdf"):
            r = await client.get(f"/catalogue/items/11530428015176456L2999999999999/guide{suffix}")
            assert r.status_code == 404
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["code"] == "guide_not_found"

    async def test_etag_and_last_modified_come_from_the_version(self, client: httpx.AsyncClient) -> None:
        version = await _publish(client)
        r = await client.get(GUIDE)
        assert r.headers["etag"] == f'"{ITEM_CODE}-v{version}-json"' and r.headers["last-modified"]
        again = await client.get(GUIDE, headers={"If-None-Match": r.headers["etag"]})
        assert again.status_code == 304 and again.content == b""


class TestGuideHtml:
    async def test_page_shows_the_guide_and_escapes_content(self, client: httpx.AsyncClient) -> None:
        await _publish(client, place="<script>alert(1)</script>元江县政务服务中心")
        r = await client.get(f"{GUIDE}.html")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert '<html lang="zh-CN">' in r.text and "@media print" in r.text
        assert "<script>alert(1)</script>" not in r.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;元江县政务服务中心" in r.text
        assert CONSTRUCTION.content.materials[0].name in r.text


class TestGuidePdf:
    async def test_pdf_embeds_a_cjk_font_and_carries_the_text(self, client: httpx.AsyncClient) -> None:
        version = await _publish(client)
        r = await client.get(f"{GUIDE}.pdf")
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/pdf"
        assert r.headers["etag"] == f'"{ITEM_CODE}-v{version}-pdf"'
        assert r.content.startswith(b"%PDF")
        assert b"/FontFile2" in r.content, "the TrueType subset is embedded"
        reader = PdfReader(io.BytesIO(r.content))
        text = "".join(page.extract_text() for page in reader.pages)
        assert "建筑工程施工许可证核发" in text
        assert CONSTRUCTION.content.materials[0].name in text
        assert "申请材料清单" in text

    def test_no_cjk_font_is_a_clear_error_not_tofu(self, tmp_path: Path) -> None:
        with pytest.raises(GuideFontMissing, match="未找到中文"):
            rendering.find_font(None, search=(str(tmp_path / "none.ttc"),))
        with pytest.raises(GuideFontMissing, match="配置的中文字体文件不存在"):
            rendering.find_font(tmp_path / "missing.ttf")

    def test_openapi_documents_the_pdf(self, app: Any) -> None:
        operation = app.openapi()["paths"]["/api/v1/catalogue/items/{item_code}/guide.pdf"]["get"]
        assert "application/pdf" in operation["responses"]["200"]["content"]
        assert "ETag" in operation["responses"]["200"]["headers"]
