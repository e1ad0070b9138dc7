"""A citizen signs in, in a real browser (ADR 0103): by password, and by SMS code with JavaScript
off (the development sender writes the code to the gateway's log, where the test reads it);
both cookies are HttpOnly; sign-out ends the session; axe-core finds no serious violation."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from playwright.async_api import Browser, ConsoleMessage, Page, expect

from scripts.stack import Stack

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
CODE = re.compile(r"验证码为 (\d{6})")


def _errors(page: Page) -> list[str]:
    errors: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            errors.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


async def _latest_code(stack: Stack, seen: int) -> str:
    """The newest code the gateway's development SMS sender logged after ``seen`` earlier ones."""
    log = stack.log_path("gateway")
    for _ in range(100):
        codes = CODE.findall(log.read_text(encoding="utf-8", errors="replace"))
        if len(codes) > seen:
            return codes[-1]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no SMS code in {log}")


def _codes_so_far(stack: Stack) -> int:
    return len(CODE.findall(stack.log_path("gateway").read_text(encoding="utf-8", errors="replace")))


async def test_citizen_signs_in_with_a_password_and_signs_out(
    browser: Browser, portal: str, screenshots: Path
) -> None:
    ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = await ctx.new_page()
    errors = _errors(page)
    await page.goto(portal + "/sign-in")
    await expect(page.get_by_role("heading", level=1)).to_have_text("登录")
    await expect(page.get_by_role("link", name="密码登录")).to_have_attribute("aria-current", "page")
    await page.get_by_label("用户名").fill("zhangsan")
    await page.get_by_label("密码", exact=True).fill("wrong")
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    errors.clear()  # the wrong password's 401 was the point
    await page.get_by_label("密码", exact=True).fill("demo123")
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text("您已登录：张三")
    await page.screenshot(path=screenshots / "sign-in-01-password.png", full_page=True)
    cookies = {c["name"]: c for c in await ctx.cookies()}
    assert cookies["yiwang_session"]["httpOnly"] and cookies["yiwang_session"]["sameSite"] == "Lax"
    refresh = cookies["yiwang_refresh"]
    assert refresh["httpOnly"] and refresh["sameSite"] == "Strict" and refresh["path"] == "/sign-in"

    await page.get_by_role("button", name="退出登录").click()
    await expect(page.get_by_label("用户名")).to_be_visible()
    assert not {"yiwang_session", "yiwang_refresh"} & {c["name"] for c in await ctx.cookies()}
    assert errors == [], f"console or CSP errors: {errors}"
    await ctx.close()


async def test_citizen_signs_in_with_an_sms_code_without_javascript(
    browser: Browser, stack: Stack, portal: str, screenshots: Path
) -> None:
    ctx = await browser.new_context(
        locale="zh-CN", java_script_enabled=False, viewport={"width": 390, "height": 844}
    )
    page = await ctx.new_page()
    await page.goto(portal + "/sign-in")
    await page.get_by_role("link", name="短信验证码登录").click()
    await expect(page.get_by_role("link", name="短信验证码登录")).to_have_attribute("aria-current", "page")
    seen = _codes_so_far(stack)
    await page.get_by_label("手机号码").fill("13800000001")
    await page.get_by_role("button", name="获取验证码").click()
    await expect(page.get_by_role("status")).to_contain_text("验证码已发送至 138****0001")
    code = await _latest_code(stack, seen)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    await page.get_by_label("验证码", exact=True).fill(wrong)
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page.get_by_role("alert")).to_contain_text("验证码错误或已失效")
    await page.get_by_label("验证码", exact=True).fill(code)
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text("您已登录：张三")
    await page.screenshot(path=screenshots / "sign-in-02-sms-no-js.png", full_page=True)
    await ctx.close()


async def test_the_sign_in_tabs_pass_axe(browser: Browser, portal: str) -> None:
    # axe-core is injected inline, which the CSP refuses: this context bypasses it.
    ctx = await browser.new_context(bypass_csp=True, locale="zh-CN")
    page = await ctx.new_page()
    for method in ("password", "sms"):
        await page.goto(f"{portal}/sign-in?method={method}")
        await page.add_script_tag(path=str(AXE))
        result = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        bad = [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert bad == [], f"{method}: {bad}"
    await ctx.close()
