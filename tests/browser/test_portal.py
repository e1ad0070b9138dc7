"""A citizen in a real browser: home → search → filter → guide; without JavaScript; on a phone;
and axe-core finds no serious or critical accessibility violation on any page."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, expect
from pypdf import PdfReader

CONSTRUCTION_PERMIT = "11530428015176456L2000109003000"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    yield ctx
    await ctx.close()


def _collect_errors(page: Page) -> list[str]:
    """Console errors (CSP violations land here) and uncaught page errors."""
    errors: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            errors.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


async def test_citizen_searches_filters_and_opens_a_guide(
    context: BrowserContext, portal: str, screenshots: Path
) -> None:
    page = await context.new_page()
    errors = _collect_errors(page)

    await page.goto(portal + "/")
    await expect(page.get_by_role("heading", level=1)).to_have_text("我要查 · 我要办")
    await expect(page.get_by_role("link", name=re.compile("证件办理"))).to_be_visible()
    await page.screenshot(path=screenshots / "01-home.png", full_page=True)

    await page.get_by_label("搜索办事服务").fill("许可")
    await page.get_by_label("搜索办事服务").press("Enter")
    await page.wait_for_url(re.compile(r"/search\?q="))
    status = page.locator("#results-title")
    await expect(status).to_contain_text("共找到 4 个事项")
    await expect(page.locator(".hit h3")).to_have_count(4)
    await page.screenshot(path=screenshots / "02-results.png", full_page=True)

    # The filter applies in place (htmx): the page is not reloaded, the address follows.
    await page.evaluate("window.__stillHere = true")
    await page.get_by_role("checkbox", name=re.compile("^市级")).check()
    await page.wait_for_url(re.compile(r"level=city"))
    await expect(status).to_contain_text("共找到 1 个事项")
    await expect(page.locator(".hit h3")).to_have_text(["食品经营许可"])
    assert await page.evaluate("window.__stillHere === true"), "the filter reloaded the whole page"
    # The swap replaces the filters too; keyboard users must not lose their place.
    await expect(page.get_by_role("checkbox", name=re.compile("^市级"))).to_be_focused()
    await page.get_by_role("checkbox", name=re.compile("^市级")).uncheck()
    await page.get_by_role("checkbox", name=re.compile("^元江县住房和城乡建设局")).check()
    await page.wait_for_url(re.compile(r"department="))
    await expect(status).to_contain_text("共找到 3 个事项")
    await page.screenshot(path=screenshots / "03-results-filtered.png", full_page=True)

    await page.get_by_role("link", name="建筑工程施工许可证核发").click()
    await page.wait_for_url(re.compile(f"/items/{CONSTRUCTION_PERMIT}$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("建筑工程施工许可证核发")
    checklist = page.get_by_role("region", name="我需要准备什么")
    await expect(checklist).to_be_visible()
    first = checklist.get_by_role("checkbox").first
    await first.check()
    await expect(first).to_be_checked()
    assert await checklist.get_by_role("checkbox").count() >= 5
    pdf = page.get_by_role("link", name="下载办事指南（PDF）")
    await expect(pdf).to_have_attribute("href", f"/items/{CONSTRUCTION_PERMIT}/guide.pdf")
    await page.screenshot(path=screenshots / "04-guide.png", full_page=True)

    # The guide's PDF, fetched by the browser's context from the link's address (kept as an
    # artefact beside the screenshots): a PDF naming the item and every material of the checklist.
    materials = [t.strip() for t in await checklist.locator("label").all_inner_texts()]
    href = await pdf.get_attribute("href")
    assert href is not None
    response = await context.request.get(portal + href)
    assert response.ok, response.status
    assert response.headers["content-type"].startswith("application/pdf"), response.headers
    body = await response.body()
    assert body.startswith(b"%PDF")
    (screenshots / "04-guide.pdf").write_bytes(body)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages).replace("\n", "")
    assert "建筑工程施工许可证核发" in text
    assert "材料" in text and materials, materials
    missing = [m for m in materials if m[:8] not in text]
    assert missing == [], f"materials of the checklist missing from the PDF: {missing}"

    assert errors == [], f"console errors (a CSP violation shows here): {errors}"


async def test_search_and_filter_work_without_javascript(
    browser: Browser, portal: str, screenshots: Path
) -> None:
    ctx = await browser.new_context(java_script_enabled=False, locale="zh-CN")
    try:
        page = await ctx.new_page()
        await page.goto(portal + "/")
        await page.get_by_label("搜索办事服务").fill("许可")
        await page.get_by_role("button", name="搜索").click()
        await page.wait_for_url(re.compile(r"/search\?q=" + re.escape(quote("许可"))))
        await expect(page.locator("#results-title")).to_contain_text("共找到 4 个事项")
        await page.get_by_role("checkbox", name=re.compile("^市级")).check()
        await page.get_by_role("button", name="应用筛选").click()
        await page.wait_for_url(re.compile(r"level=city"))
        await expect(page.locator(".hit h3")).to_have_text(["食品经营许可"])
        await page.screenshot(path=screenshots / "05-no-javascript.png", full_page=True)
    finally:
        await ctx.close()


PAGES = {
    "home": "/",
    "results": "/search?q=%E8%AE%B8%E5%8F%AF&level=county",
    "guide": f"/items/{CONSTRUCTION_PERMIT}",
    "not-found": "/items/NOSUCHITEM",
}


PHONE = {"width": 375, "height": 812}


async def test_mobile_viewport_has_no_horizontal_scroll(
    browser: Browser, portal: str, screenshots: Path
) -> None:
    ctx = await browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    try:
        page = await ctx.new_page()
        wide: dict[str, Any] = {}
        for name, path in PAGES.items():
            await page.goto(portal + path)
            # Against the phone's width, not innerWidth: a mobile browser zooms out to fit
            # content that is too wide, and innerWidth grows with it.
            widths = await page.evaluate(
                "({scroll: document.documentElement.scrollWidth, layout: document.documentElement.clientWidth})"
            )
            if widths["scroll"] > PHONE["width"] or widths["layout"] != PHONE["width"]:
                wide[name] = widths
            await page.screenshot(path=screenshots / f"06-mobile-{name}.png", full_page=True)
        assert wide == {}, f"pages wider than a 375 px phone: {wide}"
    finally:
        await ctx.close()


async def test_no_serious_accessibility_violations(browser: Browser, portal: str) -> None:
    # axe is injected as an inline script, which the pages' CSP (rightly) refuses: bypass it here only.
    ctx = await browser.new_context(bypass_csp=True, locale="zh-CN")
    try:
        page = await ctx.new_page()
        found: dict[str, list[str]] = {}
        for name, path in PAGES.items():
            await page.goto(portal + path)
            await page.add_script_tag(path=str(AXE))
            result = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
            assert "violations" in result and result["passes"] is not None
            bad = [
                f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
                for v in result["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            if bad:
                found[name] = bad
        assert found == {}, f"axe-core violations: {found}"
    finally:
        await ctx.close()
