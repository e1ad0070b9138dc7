"""缴费与送达 in a real browser: 张三 pays the fee of his case at the sandbox cashier and comes back to
see it paid with the receipt to download, then chooses delivery by post with his address; axe-core
finds no serious or critical violation on the pages."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, expect
from pypdf import PdfReader

from scripts.flow import CONSTRUCTION_FORM, CONSTRUCTION_PERMIT, Suite
from scripts.stack import SERVICES, Stack
from tests.browser.catalogue import admin_headers

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
FEE = {"name": "施工许可证工本费", "amount_fen": 1000, "basis": "演示收费依据（非真实标准）"}


@pytest.fixture(scope="module")
async def case_no(stack: Stack) -> AsyncIterator[str]:
    """张三's construction-permit case, with the item charging a fee due before delivery."""
    fees = f"{stack.url('management')}/api/v1/items/{CONSTRUCTION_PERMIT}/fees"
    headers = admin_headers(stack.var_dir)
    async with httpx.AsyncClient() as http:
        set_fee = await http.put(fees, json={"timing": "before_delivery", "fees": [FEE]}, headers=headers)
        assert set_fee.status_code == 200, set_fee.text
    suite = Suite.connect({svc.name: stack.url(svc.name) for svc in SERVICES})
    try:
        applicant = await suite.login("zhangsan")
        item = await suite.item(CONSTRUCTION_PERMIT)
        refs = await suite.upload_materials(applicant, item, "browser-payment")
        submitted = await suite.submit(applicant, CONSTRUCTION_PERMIT, CONSTRUCTION_FORM, refs)
        number = await suite.case_no_of(applicant, submitted["application_id"])
        await suite.wait_staff_status(await suite.login("chuangkou"), number, "pending_acceptance")
        yield number
    finally:
        await suite.aclose()
        # The other browser tests use this item without a fee.
        async with httpx.AsyncClient() as http:
            await http.put(fees, json={"timing": "before_delivery", "fees": []}, headers=headers)


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    yield ctx
    await ctx.close()


async def axe_violations(context: BrowserContext, browser: Browser, url: str) -> list[str]:
    # axe is injected as an inline script, which the pages' CSP refuses: bypass it here only, with
    # the signed-in session's cookies.
    ctx = await browser.new_context(bypass_csp=True, locale="zh-CN")
    try:
        await ctx.add_cookies(await context.cookies())  # type: ignore[arg-type]
        page = await ctx.new_page()
        await page.goto(url)
        await page.add_script_tag(path=str(AXE))
        result: dict[str, Any] = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        return [
            f"{v['id']} ({v['impact']}): {v['help']}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
    finally:
        await ctx.close()


async def test_pay_at_the_cashier_get_the_receipt_and_choose_post(
    context: BrowserContext, browser: Browser, portal: str, case_no: str, screenshots: Path
) -> None:
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    await page.goto(portal + "/sign-in")
    await page.get_by_label("用户名").fill("zhangsan")
    await page.get_by_label("密码", exact=True).fill("demo123")
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text("您已登录：张三")
    await page.goto(portal + "/me")
    await expect(page.get_by_role("link", name="缴费").first).to_be_visible()

    await page.goto(f"{portal}/me/cases/{case_no}/payment")
    await expect(page.get_by_role("heading", level=1)).to_have_text("办件缴费")
    await expect(page.locator("#payment-status")).to_have_text("待缴费")
    await expect(page.locator("table.fee-table")).to_contain_text("施工许可证工本费")
    await expect(page.locator("table.fee-table")).to_contain_text("¥10.00")
    await expect(page.locator("table.fee-table")).to_contain_text("送达前缴费")
    assert await axe_violations(context, browser, f"{portal}/me/cases/{case_no}/payment") == []
    await page.screenshot(path=screenshots / "payment-01-due.png", full_page=True)

    await page.get_by_role("button", name="去缴费").click()
    await page.wait_for_url("**/pay/sandbox/**")
    await expect(page.get_by_role("heading", level=1)).to_have_text("模拟收银台（沙箱支付渠道）")
    await expect(page.locator("#cashier-amount")).to_have_text("¥10.00")
    await page.screenshot(path=screenshots / "payment-02-cashier.png", full_page=True)
    await page.get_by_role("button", name="确认支付 ¥10.00").click()

    await page.wait_for_url(f"**/me/cases/{case_no}/payment?paid=1")
    await expect(page.get_by_role("status").first).to_have_text("已完成支付，感谢！")
    await expect(page.locator("#payment-status")).to_have_text("已缴费")
    receipt_no = (await page.locator("dl.facts dd").first.inner_text()).strip()
    assert receipt_no.startswith("PJ530428")
    await page.screenshot(path=screenshots / "payment-03-paid.png", full_page=True)
    link = page.get_by_role("link", name="下载电子票据（PDF）")
    pdf = await page.request.get(portal + str(await link.get_attribute("href")))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    body = await pdf.body()
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)
    assert receipt_no in text and case_no in text and "¥10.00" in text

    await page.get_by_role("link", name="选择送达方式").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("送达方式")
    await page.get_by_label("邮寄送达（证照寄送）").check()
    await page.get_by_role("button", name="保存送达方式").click()
    await expect(page.get_by_role("alert")).to_contain_text("邮寄送达须填写")
    errors.clear()  # the missing address's 422 was the point
    await page.get_by_label("收件人").fill("张三")
    await page.get_by_label("联系电话").fill("13800138000")
    await page.get_by_label("寄送地址").fill("云南省玉溪市元江县澧江街道滨江花园3栋2单元501")
    await page.get_by_label("邮政编码").fill("653300")
    await page.get_by_role("button", name="保存送达方式").click()
    await page.wait_for_url(f"**/me/cases/{case_no}/delivery?saved=1")
    await expect(page.get_by_role("status")).to_have_text("送达方式已保存。")
    current = page.locator("#delivery-current")
    await expect(current).to_contain_text("邮寄送达")
    await expect(current).to_contain_text("滨江花园3栋2单元501")
    await expect(current).to_contain_text("138****8000")
    assert await axe_violations(context, browser, f"{portal}/me/cases/{case_no}/delivery") == []
    await page.screenshot(path=screenshots / "payment-04-delivery.png", full_page=True)
    assert errors == []
