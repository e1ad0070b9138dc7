"""Staff in a real browser: one sign-in at the gateway → management's console → the centre imports
a CSV with an error (live progress, then the row error) → uploads the fixed file → the implementing
body's staff submit the draft → the centre approves and publishes → the portal's search finds it;
axe-core finds no serious or critical violation on the console pages."""

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
#: 建筑工程施工许可证核发 of 元江县住建局, whose staff (chuangkou) submit the new item's draft.
PERMIT = "11530428015176456L2000109003000"


def _csv(stack: Stack, *, region_code: str) -> tuple[str, bytes]:
    """The construction permit's row of the exported catalogue turned into a new item of the same
    body, 元江县住建局 (and, if asked, a wrong region code); returns its 实施编码 (the body's credit
    code and level digit + our basic code)."""
    r = httpx.get(stack.url("management") + "/api/v1/catalogue/export.csv")
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    example = next((row for row in rows if row["实施编码"] == PERMIT), None)
    assert example is not None, "the exported catalogue has no construction permit"
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


async def _sign_in(page: Page, console: str, username: str, *, wrong_first: bool = False) -> None:
    # Not signed in: the console sends the browser to the one sign-in, the gateway's page.
    await page.goto(console)
    await page.wait_for_url(re.compile(r"/console/sign-in\?next="))
    await expect(page.get_by_role("heading", level=1)).to_have_text("工作人员登录")
    await page.get_by_label("用户名").fill(username)
    if wrong_first:
        await page.get_by_label("密码").fill("wrong")
        await page.get_by_role("button", name="登录").click()
        await expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    await page.get_by_label("密码").fill("demo123")
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(console)
    await expect(page.get_by_role("heading", level=1)).to_have_text("事项清单")


async def _upload(page: Page, path: Path, *, expect_text: str, shot: Path) -> None:
    """Upload through htmx: the job appears in place with its progress, polls, then shows the outcome."""
    await page.evaluate("window.__stillHere = true")
    await page.get_by_label("实施清单文件").set_input_files(path)
    await page.get_by_role("button", name="上传并导入").click()
    job = page.locator("#import-job")
    # Live progress: the job is queued or running first, with its progress bar and a refresh link.
    await expect(job.locator("progress.job-progress")).to_be_attached()
    await expect(job.get_by_role("link", name="刷新查看进度")).to_be_visible()
    await page.screenshot(path=shot, full_page=True)
    await expect(job.locator(".job-status")).to_contain_text(expect_text, timeout=60_000)
    await expect(job.locator("progress.job-progress")).to_have_count(0)
    assert await page.evaluate("window.__stillHere === true"), "the import reloaded the whole page"
    await page.wait_for_url(re.compile(r"/console/manage/imports/[0-9a-f-]{36}$"))


async def test_centre_imports_fixes_publishes_and_the_portal_finds_it(
    browser: Browser, stack: Stack, screenshots: Path, tmp_path: Path
) -> None:
    console = stack.url("management") + "/console/manage/"
    broken, fixed = tmp_path / "清单.csv", tmp_path / "清单-修正.csv"
    item_code, content = _csv(stack, region_code="999999")
    broken.write_bytes(content)
    fixed.write_bytes(_csv(stack, region_code="530428")[1])

    ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    body_ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = await ctx.new_page()
    errors = _errors(page)

    await _sign_in(page, console, "zhongxin", wrong_first=True)
    errors.clear()  # the wrong password's 401 was the point
    cookie = next(c for c in await ctx.cookies() if c["name"] == "yiwang_staff")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/console"
    await page.screenshot(path=screenshots / "console-01-list.png", full_page=True)

    await page.get_by_role("link", name="导入实施清单").first.click()
    await _upload(
        page, broken, expect_text="未导入任何内容", shot=screenshots / "console-02a-import-progress.png"
    )
    errors_table = page.get_by_role("table", name=re.compile("逐行错误"))
    await expect(errors_table).to_be_visible()
    await expect(errors_table).to_contain_text("行政区划代码")
    await expect(errors_table.locator("tbody tr").first.locator("td").nth(1)).to_have_text("2")
    await page.screenshot(path=screenshots / "console-02-import-errors.png", full_page=True)
    job_url = page.url
    async with httpx.AsyncClient() as client:
        r = await client.get(stack.url("gateway") + "/api/v1/items/" + item_code)
    assert r.status_code == 404, "a file with errors imported something"

    # Fixed and imported again (as a draft of the implementing body: 谁编制、谁维护).
    await _upload(page, fixed, expect_text="导入完成", shot=screenshots / "console-03a-import-progress.png")
    await expect(page.get_by_role("table", name=re.compile("逐行错误"))).to_have_count(0)
    await expect(page.locator("#import-job .facts")).to_contain_text(re.compile(r"新建\s*1"))
    await page.screenshot(path=screenshots / "console-03-imported.png", full_page=True)

    # The body's staff member (窗口受理员 of 元江县住建局) finds the draft and submits it.
    body_page = await body_ctx.new_page()
    body_errors = _errors(body_page)
    await _sign_in(body_page, console, "chuangkou")
    await body_page.goto(console + "?status=draft")
    await body_page.get_by_role("link", name=NAME).click()
    await expect(body_page.get_by_role("heading", level=1)).to_have_text(NAME)
    await body_page.get_by_role("button", name="提交审核").click()
    await expect(body_page.get_by_role("status").first).to_contain_text("已提交待审核")
    await body_page.screenshot(path=screenshots / "console-04-submitted.png", full_page=True)

    # The centre approves and publishes.
    await page.goto(console + "?status=submitted")
    await page.get_by_role("link", name=NAME).click()
    await page.get_by_role("button", name="审核通过").click()
    await expect(page.get_by_role("status").first).to_contain_text("已审核待发布")
    await page.get_by_role("button", name="发布").click()
    await expect(page.get_by_role("status").first).to_contain_text("已发布")
    await expect(page.get_by_role("button", name="撤销")).to_be_visible()
    await expect(page.get_by_role("button", name="保存草稿")).to_have_count(0)
    await page.screenshot(path=screenshots / "console-05-version.png", full_page=True)
    version_url = page.url

    # Published → the portal's search finds it (its read model follows item.published).
    await page.goto(stack.url("gateway") + "/search?q=" + NAME)
    await expect(page.locator(".hit h3").first).to_have_text(NAME, timeout=10_000)
    await page.screenshot(path=screenshots / "console-06-portal-search.png", full_page=True)
    assert errors == [] and body_errors == [], f"console or CSP errors: {errors} {body_errors}"
    await body_ctx.close()

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
            "import job": job_url,
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
