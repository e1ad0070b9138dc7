"""Sign-up → 我的 in a real browser: a person and a company verified against data-sharing's demo
base registries, a company authorising an agent who then acts for it; without JavaScript, at
phone width, and with axe-core finding no serious or critical violation."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PHONE = {"width": 375, "height": 812}


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    yield ctx
    await ctx.close()


async def _fill(page: Page, fields: dict[str, str]) -> None:
    for label, value in fields.items():
        await page.get_by_label(label, exact=True).fill(value)


async def test_person_signs_up_and_lands_in_my_space(
    context: BrowserContext, portal: str, screenshots: Path
) -> None:
    page = await context.new_page()
    errors: list[str] = []
    # A refused form answers 4xx on purpose (the browser logs that); anything else is an error.
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "responded with a status of 4" not in m.text
            else None
        ),
    )
    await page.goto(portal + "/")
    await page.get_by_role("link", name="注册").click()
    await page.get_by_role("link", name="个人注册").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("个人注册")
    person = {
        "姓名": "王五",
        "公民身份号码": "530428199203151233",
        "手机号码": "13900000003",
        "用户名": "wangwu",
        "密码": "correct-horse-9",
    }
    await _fill(page, person)
    await page.get_by_role("button", name="注册并核验").click()
    # A wrong check digit is told as such, and what was typed (but the password) stays.
    await expect(page.get_by_role("alert")).to_contain_text("校验码错误")
    await expect(page.get_by_label("姓名", exact=True)).to_have_value("王五")
    await page.screenshot(path=screenshots / "people-01-bad-id.png", full_page=True)
    await _fill(page, {"公民身份号码": "530428199203151232", "姓名": "王六", "密码": "correct-horse-9"})
    await page.get_by_role("button", name="注册并核验").click()
    await expect(page.get_by_role("alert")).to_contain_text("人口库")
    await _fill(page, {"姓名": "王五", "密码": "correct-horse-9"})
    await page.get_by_role("button", name="注册并核验").click()
    await page.wait_for_url(re.compile(r"/me\?welcome=1$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("我的")
    await expect(page.get_by_role("status").first).to_contain_text("实名等级 L2")
    profile = page.get_by_role("region", name="个人信息")
    await expect(profile).to_contain_text("530428********1232")
    await expect(profile).to_contain_text("139****0003")
    await expect(page.get_by_role("region", name="我的办件")).to_contain_text("暂无办件")
    await page.screenshot(path=screenshots / "people-02-my-space.png", full_page=True)
    assert errors == [], f"console errors (a CSP violation shows here): {errors}"


async def test_company_signs_up_without_javascript_and_an_agent_acts_for_it(
    browser: Browser, portal: str, screenshots: Path
) -> None:
    # The agent-to-be registers through the API (the page is the other test's).
    agent = {
        "username": "liuyang",
        "password": "correct-horse-9",
        "name": "刘洋",
        "id_number": "530428200002203214",
        "mobile": "13900000006",
    }
    async with httpx.AsyncClient() as http:
        r = await http.post(f"{portal}/api/v1/registrations/natural-persons", json=agent)
    assert r.status_code == 201, r.text
    ctx = await browser.new_context(java_script_enabled=False, locale="zh-CN")
    try:
        page = await ctx.new_page()
        await page.goto(portal + "/sign-up/company")
        company = {
            "统一社会信用代码": "91530428MA6K000028",
            "单位名称": "元江县红河谷农业开发有限公司",
            "法定代表人姓名": "赵丽",
            "法定代表人公民身份号码": "530428198808084568",
            "联系手机": "13900000004",
            "用户名": "hhgny",
            "密码": "correct-horse-9",
        }
        await _fill(page, {**company, "统一社会信用代码": "91530428MA6K000029"})
        await page.get_by_role("button", name="注册并核验").click()
        await expect(page.get_by_role("alert")).to_contain_text("统一社会信用代码校验码错误")
        await _fill(page, company)
        await page.get_by_role("button", name="注册并核验").click()
        await page.wait_for_url(re.compile(r"/me"))
        agents = page.get_by_role("region", name="我的经办人")
        await expect(agents).to_contain_text("尚未授权经办人")
        await page.get_by_label("经办人姓名").fill("刘洋")
        await page.get_by_label("经办人公民身份号码").fill("530428200002203214")
        await page.get_by_role("button", name="授权", exact=True).click()
        await page.wait_for_url(re.compile(r"/me"))
        await expect(agents).to_contain_text("刘洋（530428********3214）")
        await expect(agents).to_contain_text("有效")
        await page.screenshot(path=screenshots / "people-03-company-agents.png", full_page=True)
    finally:
        await ctx.close()

    # The agent, signed in (the page session holds an access token), acts for the company.
    async with httpx.AsyncClient() as http:
        token = await http.post(
            f"{portal}/api/v1/auth/token", json={"username": "liuyang", "password": agent["password"]}
        )
    host = urlsplit(portal).hostname or "127.0.0.1"
    ctx = await browser.new_context(locale="zh-CN")
    try:
        await ctx.add_cookies(
            [{"name": "yiwang_session", "value": token.json()["access_token"], "domain": host, "path": "/"}]
        )
        page = await ctx.new_page()
        await page.goto(portal + "/me")
        units = page.get_by_role("region", name="我可代办的单位")
        await expect(units).to_contain_text("元江县红河谷农业开发有限公司（经办人")
        await units.get_by_role("button", name="以该单位身份办事").click()
        await expect(page.get_by_role("status").first).to_contain_text(
            "正以“元江县红河谷农业开发有限公司”经办人身份办事"
        )
        await page.screenshot(path=screenshots / "people-04-acting-for.png", full_page=True)
    finally:
        await ctx.close()


PAGES = {
    "sign-up": "/sign-up",
    "person": "/sign-up/person",
    "company": "/sign-up/company",
    "me-anonymous": "/me",
}


async def test_sign_up_pages_fit_a_phone_and_pass_axe(
    browser: Browser, portal: str, screenshots: Path
) -> None:
    ctx = await browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, bypass_csp=True
    )
    try:
        page = await ctx.new_page()
        wide: dict[str, Any] = {}
        found: dict[str, list[str]] = {}
        for name, path in PAGES.items():
            await page.goto(portal + path)
            widths = await page.evaluate(
                "({scroll: document.documentElement.scrollWidth, layout: document.documentElement.clientWidth})"
            )
            if widths["scroll"] > PHONE["width"] or widths["layout"] != PHONE["width"]:
                wide[name] = widths
            await page.screenshot(path=screenshots / f"people-mobile-{name}.png", full_page=True)
            await page.add_script_tag(path=str(AXE))
            result = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
            bad = [
                f"{v['id']} ({v['impact']}): {v['help']}"
                for v in result["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            if bad:
                found[name] = bad
        assert wide == {}, f"pages wider than a 375 px phone: {wide}"
        assert found == {}, f"axe-core violations: {found}"
    finally:
        await ctx.close()


async def test_my_space_of_a_signed_in_legal_person_passes_axe_on_a_phone(
    browser: Browser, portal: str, screenshots: Path
) -> None:
    async with httpx.AsyncClient() as http:
        token = await http.post(
            f"{portal}/api/v1/auth/token", json={"username": "yjcj", "password": "demo123"}
        )
    assert token.status_code == 200, token.text
    host = urlsplit(portal).hostname or "127.0.0.1"
    ctx = await browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, bypass_csp=True
    )
    try:
        await ctx.add_cookies(
            [{"name": "yiwang_session", "value": token.json()["access_token"], "domain": host, "path": "/"}]
        )
        page = await ctx.new_page()
        await page.goto(portal + "/me")
        await expect(page.get_by_role("region", name="我的经办人")).to_be_visible()
        widths = await page.evaluate("document.documentElement.scrollWidth")
        assert widths <= PHONE["width"], widths
        await page.add_script_tag(path=str(AXE))
        result = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert bad == [], bad
        await page.screenshot(path=screenshots / "people-mobile-me.png", full_page=True)
    finally:
        await ctx.close()
