"""电子监察 in a real browser: the centre administrator loads next year's holiday schedule on the
calendar page; the supervisor sees a case's warning on the board; the department answers it in
writing; the supervisor closes it. axe-core finds no serious or critical violation on either page."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from playwright.async_api import Browser, Page, expect

from scripts.flow import CONSTRUCTION_FORM, CONSTRUCTION_PERMIT, Suite
from scripts.stack import BY_NAME, Stack

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# Shaped like an announcement for a year the packaged calendar does not know; test data only.
SCHEDULE = {
    "year": 2031,
    "source": "浏览器测试用安排（非真实通知）",
    "holidays": [{"name": "元旦", "start": "2031-01-01", "end": "2031-01-01"}],
    "workdays": [],
}


async def _sign_in(page: Page, stack: Stack, username: str) -> None:
    await page.goto(stack.url("management") + "/console/manage/supervision")
    await page.wait_for_url(re.compile(r"/console/sign-in\?next="))
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill("demo123")
    await page.get_by_role("button", name="登录").click()
    # The one sign-in lands on the console's home; the board is one link away.
    await page.wait_for_url(re.compile(r"/console/manage/"))
    await page.get_by_role("link", name="电子监察").click()
    await page.wait_for_url(re.compile(r"/console/manage/supervision$"))


async def _accepted_case_warned_today(stack: Stack) -> str:
    """An accepted case of an item whose rule warns the whole limit ahead, swept once."""
    suite = Suite.connect(
        {name: stack.url(name) for name in ("gateway", "management", "business", "data-sharing")}
    )
    try:
        applicant = await suite.login("zhangsan")
        item = await suite.item(CONSTRUCTION_PERMIT)
        refs = await suite.upload_materials(applicant, item, "supervision-browser")
        submitted = await suite.submit(applicant, CONSTRUCTION_PERMIT, CONSTRUCTION_FORM, refs)
        case_no = await suite.case_no_of(applicant, submitted["application_id"])
        window = await suite.login("chuangkou")
        await suite.wait_staff_status(window, case_no, "pending_acceptance")
        await suite.accept(window, case_no)
        supervisor = await suite.login("jiancha")
        rule = {"warn_days": 60, "step_warn_days": 1, "deemed_approval": False}
        r = await suite.management.put(
            f"/supervision/rules/{CONSTRUCTION_PERMIT}", json=rule, headers=supervisor
        )
        assert r.status_code == 200, r.text
    finally:
        await suite.aclose()
    svc = BY_NAME["management"]
    proc = await asyncio.create_subprocess_exec(
        svc.command,
        "worker",
        "--once",
        "--interval",
        "1",
        env=stack.env(svc),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert json.loads(out.decode().strip().splitlines()[-1])["swept"]
    return case_no


async def _axe(
    browser: Browser, cookies: list[dict[str, object]], urls: dict[str, str]
) -> dict[str, list[str]]:
    ctx = await browser.new_context(bypass_csp=True, locale="zh-CN")
    try:
        await ctx.add_cookies(cookies)  # type: ignore[arg-type]
        page = await ctx.new_page()
        found: dict[str, list[str]] = {}
        for name, url in urls.items():
            await page.goto(url)
            await page.add_script_tag(path=str(AXE))
            result = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
            bad = [
                f"{v['id']} ({v['impact']}): {v['help']}"
                for v in result["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            if bad:
                found[name] = bad
        return found
    finally:
        await ctx.close()


async def test_calendar_upload_and_the_supervision_board(
    browser: Browser, stack: Stack, screenshots: Path, tmp_path: Path
) -> None:
    console = stack.url("management") + "/console/manage"
    schedule_file = tmp_path / "2031.json"
    schedule_file.write_text(json.dumps(SCHEDULE, ensure_ascii=False), encoding="utf-8")
    broken_file = tmp_path / "2031-broken.json"
    broken_file.write_text(
        json.dumps({**SCHEDULE, "workdays": [{"name": "元旦", "date": "2031-01-02"}]}, ensure_ascii=False),
        encoding="utf-8",
    )

    admin_ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = await admin_ctx.new_page()
    await _sign_in(page, stack, "zhongxin")
    await page.get_by_role("link", name="节假日安排").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("节假日安排管理")
    await page.get_by_label("节假日安排文件").set_input_files(broken_file)
    await page.get_by_role("button", name="上传并载入").click()
    await expect(page.get_by_role("alert")).to_contain_text("不是周末")
    await page.get_by_label("节假日安排文件").set_input_files(schedule_file)
    await page.get_by_role("button", name="上传并载入").click()
    await expect(page.get_by_role("status")).to_contain_text("已载入 2031 年节假日安排")
    await expect(page.get_by_role("table", name="已知年份")).to_contain_text("浏览器测试用安排")
    await page.screenshot(path=screenshots / "supervision-01-calendar.png", full_page=True)
    admin_cookies = await admin_ctx.cookies()
    await admin_ctx.close()

    case_no = await _accepted_case_warned_today(stack)

    department_ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = await department_ctx.new_page()
    await _sign_in(page, stack, "chuangkou")
    row = page.locator("tr", has_text=case_no)
    await expect(row).to_contain_text("预警")
    await row.get_by_label("答复").fill("材料审查中，预计明日办结")
    await row.get_by_role("button", name="提交答复").click()
    await expect(page.locator("tr", has_text=case_no)).to_contain_text("已答复")
    await department_ctx.close()

    supervisor_ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = await supervisor_ctx.new_page()
    await _sign_in(page, stack, "jiancha")
    await expect(page.get_by_role("heading", level=1)).to_have_text("电子监察 · 督办件箱")
    row = page.locator("tr", has_text=case_no)
    await expect(row).to_contain_text("材料审查中，预计明日办结")
    await page.screenshot(path=screenshots / "supervision-02-board.png", full_page=True)
    await row.get_by_role("button", name="确认办结").click()
    await expect(page.locator("tr", has_text=case_no)).to_contain_text("已办结")
    supervisor_cookies = await supervisor_ctx.cookies()
    await supervisor_ctx.close()

    found = await _axe(browser, supervisor_cookies, {"board": console + "/supervision"})  # type: ignore[arg-type]
    found |= await _axe(browser, admin_cookies, {"calendar": console + "/calendar"})  # type: ignore[arg-type]
    assert found == {}, f"axe-core violations: {found}"
