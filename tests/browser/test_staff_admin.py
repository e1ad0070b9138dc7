"""Staff administration in a real browser (ADR 0105, 0114): the centre administrator signs in at the
console, adds a window with its roles in the organisation page, adds a staff member, gives them the
window, and deactivates them; the gateway hears each change over the bus — the member's next token
carries the roles, and after the deactivation they can no longer sign in and their refresh token is
refused. axe-core finds no serious or critical violation on the staff pages."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
from playwright.async_api import Browser, Page, expect
from pydantic import SecretStr

from scripts.stack import Stack
from yiwang_common.auth import ROLE_ADMIN, Principal, TokenIssuer
from yiwang_common.checkdigits import uscc_check
from yiwang_common.config import AuthSettings
from yiwang_common.keys import development_keypair
from yiwang_gateway.account.passwords import hash_password_sync

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
#: A unit of 元江县 of its own, so that no other browser test sees its posts or staff.
UNIT = "11530428MB7700001"
UNIT += uscc_check(UNIT)
UNIT_NAME = "元江县行政审批局"
USERNAME = "pw_wangfang"
PASSWORD = "Staff-pass-2026"


def _province_admin(var_dir: Path) -> dict[str, str]:
    """A province administrator's token (the tree above 元江县 is theirs to create)."""
    principal = Principal(
        sub="browser-province-admin",
        name="省中心管理员",
        kind="staff",
        roles=frozenset({ROLE_ADMIN}),
        region="530000",
    )
    private_pem, public_pem = development_keypair(var_dir)
    settings = AuthSettings(private_key_pem=SecretStr(private_pem), public_key_pem=public_pem)
    return {"Authorization": f"Bearer {TokenIssuer(settings).issue(principal)}"}


async def _gateway_staff_account(stack: Stack) -> None:
    """The member's portal staff account (staff accounts are provisioned, not self-registered)."""
    assert stack.database_url
    conn = await asyncpg.connect(stack.database_url.replace("postgresql+asyncpg:", "postgresql:", 1))
    try:
        await conn.execute(
            "INSERT INTO gateway.account (id, username, password_hash, kind, name, org_code, roles, active,"
            " created_at) VALUES ($1, $2, $3, 'staff', '王芳', NULL, '[]'::jsonb, true, now())"
            " ON CONFLICT (username) DO NOTHING",
            uuid.uuid4(),
            USERNAME,
            hash_password_sync(PASSWORD),
        )
    finally:
        await conn.close()


def _tree(stack: Stack) -> None:
    headers = _province_admin(stack.var_dir)
    base = stack.url("management") + "/api/v1/organisation"
    for code, name in (("530000", "云南省"), ("530400", "玉溪市"), ("530428", "元江县")):
        r = httpx.post(base + "/regions", json={"code": code, "name": name}, headers=headers)
        assert r.status_code in (201, 409), r.text
    body = {"org_code": UNIT, "name": UNIT_NAME, "region_code": "530428", "level": "4"}
    r = httpx.post(base + "/departments", json=body, headers=headers)
    assert r.status_code in (201, 409), r.text


async def _token(stack: Stack) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(
            stack.url("gateway") + "/api/v1/auth/token", json={"username": USERNAME, "password": PASSWORD}
        )


async def _until(predicate: object, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not await predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what} did not happen"
        await asyncio.sleep(0.2)


async def _sign_in(page: Page, stack: Stack) -> None:
    console = stack.url("management") + "/console/manage/"
    await page.goto(console)
    await page.wait_for_url(re.compile(r"/console/sign-in\?next="))
    await page.get_by_label("用户名").fill("zhongxin")
    await page.get_by_label("密码").fill("demo123")
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(console)


async def test_the_administrator_adds_a_window_and_a_member_assigns_and_deactivates(
    browser: Browser, stack: Stack, screenshots: Path
) -> None:
    _tree(stack)
    await _gateway_staff_account(stack)
    manage = stack.url("management") + "/console/manage"
    ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        await _sign_in(page, stack)

        # 组织机构: a window of the unit that grants 收件人 and 受理人.
        await page.goto(manage + "/organisation")
        await expect(page.get_by_role("heading", level=1)).to_have_text("组织机构")
        unit = page.locator("section", has=page.get_by_role("heading", name=UNIT_NAME))
        await unit.get_by_label("岗位编码").fill("SL77")
        await unit.get_by_label("岗位名称").fill("综合受理窗口")
        await unit.get_by_label("类型").select_option("window")
        await unit.get_by_label("收件人").check()
        await unit.get_by_label("受理人").check()
        await unit.get_by_role("button", name="新建岗位").click()
        await page.wait_for_url(manage + "/organisation")
        unit = page.locator("section", has=page.get_by_role("heading", name=UNIT_NAME))
        row = unit.get_by_role("row", name=re.compile("综合受理窗口"))
        await expect(row).to_contain_text("受理人、收件人")
        await page.screenshot(path=screenshots / "staff-01-organisation.png", full_page=True)

        # 工作人员: a new member of the unit, then their page with the unit's posts to choose from.
        await page.goto(manage + "/staff")
        await page.get_by_label("登录名（门户工作人员账户）").fill(USERNAME)
        await page.get_by_label("姓名").fill("王芳")
        await page.get_by_label("部门").select_option(UNIT)
        await page.get_by_role("button", name="新建并分配岗位").click()
        await page.wait_for_url(re.compile(r"/console/manage/staff/[0-9a-f-]{36}$"))
        detail = page.url
        await expect(page.get_by_role("heading", level=1)).to_have_text("王芳")
        await page.get_by_label(re.compile("综合受理窗口")).check()
        await page.get_by_role("button", name="保存岗位").click()
        await page.wait_for_url(detail)
        await expect(page.locator("dd").filter(has_text="受理人")).to_contain_text("受理人、收件人")
        await page.screenshot(path=screenshots / "staff-02-assigned.png", full_page=True)

        # The gateway heard of it: the member's next token carries the window's roles.
        async def has_roles() -> bool:
            r = await _token(stack)
            return r.status_code == 200 and r.json()["principal"]["roles"] == ["acceptor", "receiver"]

        await _until(has_roles, "the post assignment reaching the token")
        signed_in = (await _token(stack)).json()
        assert signed_in["principal"]["org_code"] == UNIT

        # 停用: the member can no longer sign in, and the session opened before is over.
        await page.get_by_role("button", name="停用该工作人员").click()
        await page.wait_for_url(detail)
        await expect(page.locator('dl [role="status"]')).to_have_text("已停用")
        await expect(page.get_by_role("button", name="保存岗位")).to_have_count(0)
        await page.screenshot(path=screenshots / "staff-03-deactivated.png", full_page=True)

        async def locked_out() -> bool:
            return (await _token(stack)).status_code == 401

        await _until(locked_out, "the deactivation reaching the gateway")
        async with httpx.AsyncClient() as client:
            r = await client.post(
                stack.url("gateway") + "/api/v1/auth/token",
                data={"grant_type": "refresh_token", "refresh_token": signed_in["refresh_token"]},
            )
        assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
        await page.goto(manage + "/staff")
        member_row = page.get_by_role("row", name=re.compile("王芳"))
        await expect(member_row).to_contain_text("已停用")
        assert errors == [], f"page errors: {errors}"

        # axe-core is injected inline, which the CSP refuses: a second context bypasses it, same cookie.
        axe_ctx = await browser.new_context(bypass_csp=True, locale="zh-CN")
        try:
            await axe_ctx.add_cookies(await ctx.cookies())
            axe_page = await axe_ctx.new_page()
            found: dict[str, list[str]] = {}
            for name, url in {
                "staff": manage + "/staff",
                "member": detail,
                "organisation": manage + "/organisation",
            }.items():
                await axe_page.goto(url)
                await axe_page.add_script_tag(path=str(AXE))
                result = await axe_page.evaluate("axe.run(document, {resultTypes: ['violations']})")
                bad = [
                    f"{v['id']} ({v['impact']}): {v['help']}"
                    for v in result["violations"]
                    if v["impact"] in ("serious", "critical")
                ]
                if bad:
                    found[name] = bad
            assert found == {}, f"axe-core violations: {found}"
        finally:
            await axe_ctx.close()
    finally:
        await ctx.close()
