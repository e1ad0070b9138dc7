"""统分 in a real browser (ADR 0114, 0116): a province and a city platform started by the launcher as
real processes (each its own database, NATS server, loopback address, key and issuer).

The city's sign-up pages register nobody and send the citizen to the province; the citizen signs
in at the city through the province; signing out at the city ends the province session too
(RP-initiated logout), and signing out at the province ends the city's session (back-channel
logout, posted by the province's delivery worker over real HTTP).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from playwright.async_api import Browser, BrowserContext, expect

# The launcher fixture of the platform tests (a fixture is used by its name).
from tests.e2e.test_platforms import Launch, launch  # noqa: F401

AXE = Path(__file__).parent / "vendor" / "axe.min.js"


async def _refresh_cookie(ctx: BrowserContext, url: str) -> str:
    cookies = await ctx.cookies(url + "/sign-in")
    found = [c["value"] for c in cookies if c["name"] == "yiwang_refresh"]
    assert found, f"no refresh cookie for {url}"
    return found[0]


async def _refresh(url: str, token: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(
            url + "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": token}
        )


async def _serious(browser: Browser, url: str) -> list[str]:
    # axe is injected as an inline script, which the pages' CSP (rightly) refuses: bypass it here only.
    ctx = await browser.new_context(bypass_csp=True, locale="zh-CN")
    try:
        page = await ctx.new_page()
        await page.goto(url)
        await page.add_script_tag(path=str(AXE))
        result = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        return [
            f"{v['id']} ({v['impact']}): {v['help']}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
    finally:
        await ctx.close()


async def test_city_sign_up_points_to_the_province_and_sign_out_ends_both_sessions(
    browser: Browser,
    launch: Launch,  # noqa: F811
    screenshots: Path,
) -> None:
    # The launcher is synchronous (it runs its own event loops): off this test's loop.
    stacks = await asyncio.to_thread(launch, "province=530000,city=530400", "统分", demo=("province",))
    province, city = stacks["province"].url("gateway"), stacks["city"].url("gateway")
    ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    try:
        page = await ctx.new_page()
        # The city's sign-up: no form, the province's name, a link to register there.
        await page.goto(city + "/sign-up")
        await expect(page.get_by_role("heading", level=1)).to_have_text("注册账户")
        await expect(page.locator("main")).to_contain_text("由province 省级平台统一注册和管理")
        await expect(page.get_by_role("link", name="前往province 省级平台注册")).to_have_attribute(
            "href", province + "/sign-up"
        )
        await page.goto(city + "/sign-up/company")
        await expect(page.get_by_role("heading", level=1)).to_have_text("法人注册")
        await expect(page.get_by_label("用户名")).to_have_count(0)  # nothing to fill in here
        await page.screenshot(path=str(screenshots / "platforms-city-sign-up.png"), full_page=True)

        # Sign in at the city through the province, from the sign-up page's link.
        await page.get_by_role("link", name="使用province 省级平台统一身份认证登录").click()
        await page.wait_for_url(province + "/sign-in*")
        await page.get_by_label("用户名").fill("zhangsan")
        await page.get_by_label("密码", exact=True).fill("demo123")
        await page.get_by_role("button", name="登录", exact=True).click()
        await page.wait_for_url(city + "/me")
        await expect(page.locator("main")).to_contain_text("张三")
        province_refresh = await _refresh_cookie(ctx, province)

        # Sign out at the city: through the province's end-session endpoint and back.
        await page.get_by_role("button", name="退出登录").click()
        await page.wait_for_url(city + "/sign-in")
        # The city's sign-in page: the province's sign-in only, no password or SMS form here.
        await expect(page.get_by_role("link", name="通过省级平台登录")).to_be_visible()
        await expect(page.locator("main")).to_contain_text("由province 省级平台统一注册和管理")
        await expect(page.locator("main form")).to_have_count(0)
        await expect(page.get_by_role("link", name="短信验证码登录")).to_have_count(0)
        await page.screenshot(path=str(screenshots / "platforms-city-sign-in.png"), full_page=True)
        assert (await _refresh(province, province_refresh)).status_code == 400  # that session ended too
        await page.goto(province + "/sign-in")
        await expect(page.get_by_text("您已登录")).to_have_count(0)

        # Sign in again from that page, then sign out at the province: the city's session ends
        # by the back channel.
        await page.goto(city + "/sign-in?next=/me")
        await page.get_by_role("link", name="通过省级平台登录").click()
        await page.wait_for_url(province + "/sign-in*")
        await page.get_by_label("用户名").fill("zhangsan")
        await page.get_by_label("密码", exact=True).fill("demo123")
        await page.get_by_role("button", name="登录", exact=True).click()
        await page.wait_for_url(city + "/me")
        city_refresh = await _refresh_cookie(ctx, city)
        await page.goto(province + "/sign-in")
        await expect(page.get_by_text("您已登录")).to_be_visible()
        await page.get_by_role("button", name="退出登录").click()
        await page.wait_for_url(province + "/sign-in")
        # The province's worker posts the logout token to the city; its refresh token dies.
        # (Refreshing spends the token, so each check below uses the newest one it handed out.)
        deadline = asyncio.get_running_loop().time() + 60
        while True:
            r = await _refresh(city, city_refresh)
            if r.status_code == 400:
                break
            assert r.status_code == 200, r.text
            city_refresh = r.json()["refresh_token"]
            assert asyncio.get_running_loop().time() < deadline, "the city session never ended"
            await asyncio.sleep(0.2)
    finally:
        await ctx.close()
    assert await _serious(browser, city + "/sign-up") == []
    assert await _serious(browser, city + "/sign-up/person") == []
    assert await _serious(browser, city + "/sign-in") == []
