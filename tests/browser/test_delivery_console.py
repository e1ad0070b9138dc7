"""送达工作台 in a real browser (ADR 0117): 张三's construction permit is approved and he asked for it
by post; the window clerk finds it on the delivery board with its due date, records the EMS waybill
and a courier scan, then the signature; 张三 sees 已寄出（运单号…）and 已送达 on his case's timeline,
carried by management's events to the portal. axe-core finds no serious or critical violation."""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, expect

from scripts.flow import CONSTRUCTION_FORM, CONSTRUCTION_PERMIT, Suite, eventually
from scripts.stack import SERVICES, Stack
from tests.browser.test_payment_delivery import axe_violations

ADDRESS = {
    "method": "post",
    "recipient_name": "张三",
    "recipient_phone": "13800138000",
    "address": "云南省玉溪市元江县澧江街道滨江花园3栋2单元501",
    "postcode": "653300",
}


async def _approved_case_to_post(stack: Stack) -> tuple[str, str]:
    """张三's case, approved through business's review and decision, to be posted to him."""
    suite = Suite.connect({svc.name: stack.url(svc.name) for svc in SERVICES})
    try:
        applicant = await suite.login("zhangsan")
        item = await suite.item(CONSTRUCTION_PERMIT)
        refs = await suite.upload_materials(applicant, item, "browser-delivery")
        submitted = await suite.submit(applicant, CONSTRUCTION_PERMIT, CONSTRUCTION_FORM, refs)
        case_no = await suite.case_no_of(applicant, submitted["application_id"])
        window = await suite.login("chuangkou")
        await suite.wait_staff_status(window, case_no, "pending_acceptance")
        await suite.accept(window, case_no)
        for username, decision in (("shencha", "approve"), ("juece", "approve")):
            handler = await suite.login(username)
            task = await suite.task_for(handler, case_no)
            await suite.complete(handler, task["id"], decision, "符合法定条件，准予许可")
        await suite.wait_staff_status(window, case_no, "completed")
        chosen = await suite.management.put(f"/cases/{case_no}/delivery", json=ADDRESS, headers=applicant)
        assert chosen.status_code == 200, chosen.text
        return case_no, str(submitted["application_id"])
    finally:
        await suite.aclose()


async def _sign_in_console(page: Page, stack: Stack) -> None:
    await page.goto(stack.url("management") + "/console/manage/deliveries")
    await page.wait_for_url(re.compile(r"/console/sign-in\?next="))
    await page.get_by_label("用户名").fill("chuangkou")
    await page.get_by_label("密码").fill("demo123")
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(re.compile(r"/console/manage/"))
    await page.get_by_role("link", name="送达", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("送达工作台")


async def _timeline_shows(page: Page, url: str, text: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        await page.goto(url)
        return text in await page.locator("#timeline").inner_text()

    return check


async def test_post_the_result_record_its_tracking_and_the_applicant_sees_it(
    browser: Browser, stack: Stack, portal: str, screenshots: Path
) -> None:
    case_no, application_id = await _approved_case_to_post(stack)
    tracking_no = "11" + "".join(secrets.choice("0123456789") for _ in range(11))
    console = stack.url("management") + "/console/manage"
    staff = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = await staff.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    await _sign_in_console(page, stack)

    row = page.locator(f"#delivery-{case_no}")
    await expect(row).to_contain_text("邮寄送达")
    await expect(row).to_contain_text("待送达")
    await expect(row).to_contain_text("张*")
    await expect(row).to_contain_text("正常")
    await page.screenshot(path=screenshots / "delivery-01-board.png", full_page=True)
    await row.get_by_role("link", name=re.compile("办理送达")).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"送达 · 办件 {case_no}")
    await expect(page.locator("#delivery-facts")).to_contain_text("滨江花园3栋2单元501")
    await page.get_by_label("承运方").select_option("ems")
    await page.get_by_label("运单号（模拟寄递可不填）").fill(tracking_no)
    await page.get_by_role("button", name="登记寄出").click()
    await expect(page.get_by_role("status")).to_have_text("已登记寄出。")
    await expect(page.locator("#tracking-no")).to_have_text(f"中国邮政 EMS {tracking_no}")
    await page.get_by_label("轨迹类型").select_option("in_transit")
    await page.get_by_label("轨迹说明").fill("已到达玉溪邮件处理中心")
    await page.get_by_role("button", name="记录轨迹").click()
    await expect(page.get_by_role("status")).to_have_text("已记录物流轨迹。")
    await expect(page.locator("#delivery-events")).to_contain_text("运输中：已到达玉溪邮件处理中心")
    await page.screenshot(path=screenshots / "delivery-02-dispatched.png", full_page=True)
    delivery_url = page.url.split("?")[0]

    citizen = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    mine = await citizen.new_page()
    await mine.goto(portal + "/sign-in")
    await mine.get_by_label("用户名").fill("zhangsan")
    await mine.get_by_label("密码", exact=True).fill("demo123")
    await mine.get_by_role("button", name="登录", exact=True).click()
    await expect(mine.get_by_role("status")).to_contain_text("您已登录：张三")
    case_url = f"{portal}/me/applications/{application_id}"
    # Management's events reach the portal asynchronously (outbox → JetStream → inbox).
    await eventually(await _timeline_shows(mine, case_url, f"运单号 {tracking_no}"))
    timeline = mine.locator("#timeline")
    await expect(timeline).to_contain_text(f"已寄出（运单号 {tracking_no}）；承运方：中国邮政 EMS")
    await eventually(await _timeline_shows(mine, case_url, "已到达玉溪邮件处理中心"))
    await expect(timeline).to_contain_text("物流更新：运输中")

    await page.goto(delivery_url)
    await page.get_by_role("button", name="登记已签收").click()
    await expect(page.get_by_role("status")).to_have_text("已登记签收，送达完成。")
    await expect(page.locator("#delivery-status")).to_have_text("已送达")
    await page.get_by_role("link", name="返回送达工作台").click()
    await expect(page.locator(f"#delivery-{case_no}")).to_have_count(0)

    await eventually(await _timeline_shows(mine, case_url, "已送达"))
    await expect(timeline).to_contain_text(f"邮件已签收（运单号 {tracking_no}）")
    await mine.screenshot(path=screenshots / "delivery-03-citizen-timeline.png", full_page=True)
    await citizen.close()

    found: dict[str, Any] = {}
    for name, url in {"board": console + "/deliveries", "case": delivery_url}.items():
        found[name] = await axe_violations(staff, browser, url)
    assert found == {"board": [], "case": []}
    await staff.close()
    assert errors == []
