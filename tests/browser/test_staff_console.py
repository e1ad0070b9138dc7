"""A centre administrator in a real browser: one sign-in at the gateway → management's console →
import a CSV with an error → see the row error → upload the fixed file → published → found by
the portal's search; axe-core finds no serious or critical violation on the console pages."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import httpx
from playwright.async_api import Browser, ConsoleMessage, Page, expect

from scripts.stack import Stack

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
#: 城镇污水排入排水管网许可: a real item the demo catalogue does not carry.
NAME = "城镇污水排入排水管网许可"
BASIC_CODE = "000109099000"


def _csv(stack: Stack, *, region_code: str) -> tuple[str, bytes]:
    """The template's example row turned into a new item (and, if asked, a wrong region code);
    returns its 实施编码 (the example body's credit code and level digit + our basic code)."""
    r = httpx.get(stack.url("management") + "/api/v1/catalogue/template.csv", params={"example": "true"})
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows, "the template's example has no row"
    example = rows[0]
    item_code = example["实施编码"][: -len(example["基本编码"])] + BASIC_CODE
    row = example | {
        "实施编码": item_code,
        "基本编码": BASIC_CODE,
        "事项名称": NAME,
        "行政区划代码": region_code,
    }
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerow(row)
    return item_code, out.getvalue().encode("utf-8")


def _errors(page: Page) -> list[str]:
    errors: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            errors.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


async def test_centre_imports_fixes_publishes_and_the_portal_finds_it(
    browser: Browser, stack: Stack, screenshots: Path, tmp_path: Path
) -> None:
    console = stack.url("management") + "/console/manage/"
    broken, fixed = tmp_path / "清单.csv", tmp_path / "清单-修正.csv"
    item_code, content = _csv(stack, region_code="999999")
    broken.write_bytes(content)
    fixed.write_bytes(_csv(stack, region_code="530428")[1])

    ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = await ctx.new_page()
    errors = _errors(page)

    # Not signed in: the console sends the browser to the one sign-in, the gateway's page.
    await page.goto(console)
    await page.wait_for_url(re.compile(r"/console/sign-in\?next="))
    await expect(page.get_by_role("heading", level=1)).to_have_text("工作人员登录")
    await page.get_by_label("用户名").fill("zhongxin")
    await page.get_by_label("密码").fill("wrong")
    await page.get_by_role("button", name="登录").click()
    await expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    await page.get_by_label("密码").fill("demo123")
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(console)
    await expect(page.get_by_role("heading", level=1)).to_have_text("事项清单")
    errors.clear()  # the wrong password's 401 was the point
    cookie = next(c for c in await ctx.cookies() if c["name"] == "yiwang_staff")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/console"
    await page.screenshot(path=screenshots / "console-01-list.png", full_page=True)

    await page.get_by_role("link", name="导入实施清单").first.click()
    await page.get_by_label("实施清单文件").set_input_files(broken)
    await page.get_by_role("button", name="上传并导入").click()
    errors_table = page.get_by_role("table", name="逐行错误")
    await expect(errors_table).to_be_visible()
    await expect(errors_table).to_contain_text("行政区划代码")
    await expect(errors_table.locator("tbody tr").first.locator("td").nth(1)).to_have_text("2")
    await expect(page.locator(".job-status")).to_contain_text("未导入任何内容")
    await page.wait_for_url(re.compile(r"/console/manage/imports/[0-9a-f-]{36}$"))
    await page.screenshot(path=screenshots / "console-02-import-errors.png", full_page=True)
    async with httpx.AsyncClient() as client:
        r = await client.get(stack.url("gateway") + "/api/v1/items/" + item_code)
    assert r.status_code == 404, "a file with errors imported something"

    await page.get_by_label("实施清单文件").set_input_files(fixed)
    await page.get_by_label("导入后直接审核并发布").check()
    await page.get_by_role("button", name="上传并导入").click()
    await expect(page.locator(".job-status")).to_contain_text("导入完成")
    await expect(page.get_by_role("table", name="逐行错误")).to_have_count(0)
    await page.screenshot(path=screenshots / "console-03-imported.png", full_page=True)

    await page.goto(console + "?status=published")
    await page.get_by_role("link", name=NAME).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(NAME)
    await expect(page.get_by_role("status").first).to_contain_text("已发布")
    await expect(page.get_by_role("button", name="撤销")).to_be_visible()
    await expect(page.get_by_role("button", name="保存草稿")).to_have_count(0)
    await page.screenshot(path=screenshots / "console-04-version.png", full_page=True)
    version_url = page.url

    # Published → the portal's search finds it (its read model follows item.published).
    await page.goto(stack.url("gateway") + "/search?q=" + NAME)
    await expect(page.locator(".hit h3").first).to_have_text(NAME, timeout=10_000)
    await page.screenshot(path=screenshots / "console-05-portal-search.png", full_page=True)
    assert errors == [], f"console or CSP errors: {errors}"

    # axe-core is injected inline, which the CSP refuses: a second context bypasses it, same cookie.
    axe_ctx = await browser.new_context(bypass_csp=True, locale="zh-CN")
    try:
        await axe_ctx.add_cookies(await ctx.cookies())
        axe_page = await axe_ctx.new_page()
        found: dict[str, list[str]] = {}
        pages = {
            "sign-in": stack.url("gateway") + "/console/sign-in",
            "list": console,
            "version": version_url,
            "import": console + "imports/new",
        }
        for name, url in pages.items():
            await axe_page.goto(url)
            await axe_page.add_script_tag(path=str(AXE))
            result = await axe_page.evaluate("axe.run(document, {resultTypes: ['violations']})")
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
        await axe_ctx.close()
        await ctx.close()
