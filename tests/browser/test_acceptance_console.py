"""窗口受理 in a real browser (ADR 0111): a window clerk opens the acceptance queue, finds a case
missing a material, composes the one-time notice (choose the materials and reasons → preview →
issue) and downloads its PDF, which names the 办件编号 and carries a QR code that opens the
case's public progress page. axe-core finds no serious or critical violation on the pages."""

from __future__ import annotations

import io
import re
from pathlib import Path
from urllib.parse import urlsplit

import pypdf
import zxingcpp
from PIL import Image
from playwright.async_api import Browser, expect

from scripts.flow import CONSTRUCTION_FORM, CONSTRUCTION_PERMIT, Suite
from scripts.stack import Stack
from tests.browser.test_supervision_console import _axe


async def _case_missing_m03(stack: Stack) -> str:
    suite = Suite.connect(
        {name: stack.url(name) for name in ("gateway", "management", "business", "data-sharing")}
    )
    try:
        applicant = await suite.login("zhangsan")
        item = await suite.item(CONSTRUCTION_PERMIT)
        refs = await suite.upload_materials(applicant, item, "acceptance-browser", skip={"M03"})
        submitted = await suite.submit(applicant, CONSTRUCTION_PERMIT, CONSTRUCTION_FORM, refs)
        case_no = await suite.case_no_of(applicant, submitted["application_id"])
        await suite.wait_staff_status(await suite.login("chuangkou"), case_no, "pending_acceptance")
        return case_no
    finally:
        await suite.aclose()


async def _applicant_downloads_through_the_portal(stack: Stack, case_no: str, printed: bytes) -> None:
    """The applicant fetches the same notice from the portal with their own token; nobody else can."""
    suite = Suite.connect(
        {name: stack.url(name) for name in ("gateway", "management", "business", "data-sharing")}
    )
    try:
        own = await suite.gateway.get(
            f"/cases/{case_no}/notices/supplement.pdf", headers=await suite.login("zhangsan")
        )
        assert own.status_code == 200 and own.headers["content-type"] == "application/pdf"
        assert f"办件编号：{case_no}" in _pdf_text_and_codes(own.content)[0]
        other = await suite.gateway.get(
            f"/cases/{case_no}/notices/supplement.pdf", headers=await suite.login("lisi")
        )
        assert other.status_code == 404 and other.headers["content-type"] == "application/problem+json"
        missing = await suite.gateway.get(
            f"/cases/{case_no}/notices/rejection.pdf", headers=await suite.login("zhangsan")
        )
        assert missing.status_code == 404
    finally:
        await suite.aclose()
    assert printed.startswith(b"%PDF")


async def _applicant_finds_it_in_my_space(browser: Browser, stack: Stack, case_no: str) -> None:
    """我的: the case lists its one-time notice, and the link gives the PDF (the page session's token)."""
    portal = stack.url("gateway")
    suite = Suite.connect(
        {name: stack.url(name) for name in ("gateway", "management", "business", "data-sharing")}
    )
    try:
        token = (await suite.login("zhangsan"))["Authorization"].removeprefix("Bearer ")
    finally:
        await suite.aclose()
    ctx = await browser.new_context(locale="zh-CN")
    try:
        host = urlsplit(portal).hostname or "127.0.0.1"
        await ctx.add_cookies([{"name": "yiwang_session", "value": token, "domain": host, "path": "/"}])
        page = await ctx.new_page()
        await page.goto(portal + "/me")
        entry = page.get_by_role("region", name="我的办件").locator("li", has_text=case_no)
        href = await entry.get_by_role("link", name="一次性告知书（PDF）").get_attribute("href")
        assert href == f"/me/cases/{case_no}/notices/supplement.pdf"
        response = await ctx.request.get(portal + href)
        assert response.status == 200 and response.headers["content-type"] == "application/pdf"
        assert f"办件编号：{case_no}" in _pdf_text_and_codes(await response.body())[0]
    finally:
        await ctx.close()


def _pdf_text_and_codes(pdf: bytes) -> tuple[str, list[str]]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() for page in reader.pages).replace(" ", "").replace("\n", "")
    codes = [
        code.text
        for page in reader.pages
        for image in page.images
        for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(image.data)).convert("L"))
    ]
    return text, codes


async def test_queue_compose_one_time_notice_and_download_its_pdf(
    browser: Browser, stack: Stack, screenshots: Path
) -> None:
    case_no = await _case_missing_m03(stack)
    console = stack.url("management") + "/console/manage"
    ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = await ctx.new_page()
    await page.goto(console + "/acceptance")
    await page.wait_for_url(re.compile(r"/console/sign-in\?next="))
    await page.get_by_label("用户名").fill("chuangkou")
    await page.get_by_label("密码").fill("demo123")
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(re.compile(r"/console/manage/"))
    await page.get_by_role("link", name="窗口受理").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("窗口受理 · 受理队列")
    row = page.locator("tr", has_text=case_no)
    await expect(row).to_contain_text("建设工程规划许可证")
    await row.get_by_role("link", name="审查办理").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"办件 {case_no}")
    await page.get_by_role("link", name="一次性告知补正").click()

    await expect(page.get_by_label("M03 建设工程规划许可证", exact=False)).to_be_checked()
    await page.get_by_label("M06 施工图设计文件审查合格书", exact=False).check()
    await page.get_by_label("施工图设计文件审查合格书 的补正原因").fill("扫描件不清晰")
    await page.get_by_role("button", name="预览").click()
    preview = page.get_by_role("region", name="预览")
    await expect(preview).to_contain_text("施工图设计文件审查合格书（扫描件不清晰）")
    await expect(preview).to_contain_text("建设工程规划许可证（未提交）")
    await page.screenshot(path=screenshots / "acceptance-01-notice-preview.png", full_page=True)
    compose_url = page.url
    await page.get_by_role("button", name="出具告知书").click()
    await expect(page.get_by_role("status")).to_contain_text("待补正")

    link = page.get_by_role("link", name="一次性告知书（PDF）")
    href = await link.get_attribute("href")
    assert href is not None
    response = await ctx.request.get(stack.url("management") + href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    pdf = await response.body()
    (screenshots / "acceptance-02-one-time-notice.pdf").write_bytes(pdf)
    text, codes = _pdf_text_and_codes(pdf)
    assert f"办件编号：{case_no}" in text and "一次性告知书" in text and "（扫描件不清晰）" in text
    assert len(codes) == 1 and codes[0].endswith(f"/progress/{case_no}")
    # The QR code's page is the portal's public progress page of this case.
    await page.goto(stack.url("gateway") + urlsplit(codes[0]).path)
    await expect(page.locator("main")).to_contain_text(case_no)

    cookies = await ctx.cookies()
    await ctx.close()
    await _applicant_downloads_through_the_portal(stack, case_no, pdf)
    await _applicant_finds_it_in_my_space(browser, stack, case_no)
    found = await _axe(
        browser,
        cookies,  # type: ignore[arg-type]
        {
            "queue": console + "/acceptance",
            "case": console + f"/acceptance/{case_no}",
            "composer": compose_url,
        },
    )
    assert found == {}, f"axe-core violations: {found}"
