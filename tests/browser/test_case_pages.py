"""Case handling in a real browser (ADR 0115): a citizen fills the form generated from the item's
schema (an invalid value first, its error beside the field), uploads a material with htmx, reuses
earlier ones, saves a draft, reopens it, submits and follows the timeline; staff open 我的待办,
complete a step and view the workflow diagram; the API refuses what the rules refuse."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from scripts.flow import CONSTRUCTION_FORM, CONSTRUCTION_PERMIT, Suite, eventually, pdf_bytes
from scripts.stack import SERVICES, Stack


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    yield ctx
    await ctx.close()


@pytest.fixture
async def suite(stack: Stack) -> AsyncIterator[Suite]:
    s = Suite.connect({svc.name: stack.url(svc.name) for svc in SERVICES})
    yield s
    await s.aclose()


AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PHONE = {"width": 375, "height": 812}


async def _axe_and_phone(browser: Browser, context: BrowserContext, urls: dict[str, str]) -> None:
    """Each signed-in page: no serious or critical axe-core violation, no horizontal scroll on a phone."""
    state = await context.storage_state()
    # axe is injected as an inline script, which the pages' CSP (rightly) refuses: bypass it here only.
    ctx = await browser.new_context(bypass_csp=True, locale="zh-CN", storage_state=state, viewport=PHONE)
    found: dict[str, list[str]] = {}
    wide: dict[str, int] = {}
    try:
        page = await ctx.new_page()
        for name, url in urls.items():
            await page.goto(url)
            width = await page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                wide[name] = width
            await page.add_script_tag(path=str(AXE))
            result = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
            bad = [
                f"{v['id']} ({v['impact']}): {v['help']}"
                for v in result["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            if bad:
                found[name] = bad
    finally:
        await ctx.close()
    assert found == {}, f"axe-core violations: {found}"
    assert wide == {}, f"pages wider than a 375 px phone: {wide}"


def _errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


async def _citizen_sign_in(page: Page, portal: str) -> None:
    await page.goto(portal + "/sign-in")
    await page.get_by_label("用户名").fill("zhangsan")
    await page.get_by_label("密码", exact=True).fill("demo123")
    await page.get_by_role("button", name="登录", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text("您已登录：张三")


async def test_citizen_applies_through_the_generated_form_and_follows_the_timeline(
    browser: Browser, context: BrowserContext, portal: str, suite: Suite, screenshots: Path, tmp_path: Path
) -> None:
    applicant = await suite.login("zhangsan")
    item = await suite.item(CONSTRUCTION_PERMIT)
    # Earlier uploads, to be reused (我的材料) for every material but the first.
    await suite.upload_materials(applicant, item, "browser-reuse", skip={item["materials"][0]["code"]})
    page = await context.new_page()
    errors = _errors(page)
    await _citizen_sign_in(page, portal)
    await page.goto(f"{portal}/items/{CONSTRUCTION_PERMIT}/apply")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("在线申请")
    for label, value in CONSTRUCTION_FORM.items():
        if label != "建设规模":
            await page.locator(f"[name='f.{label}']").fill(str(value))
    await page.get_by_label("建设规模（平方米）").fill("-5")
    await page.get_by_role("button", name="提交申请").click()
    # The server's jsonschema check, in Chinese, next to the field; the draft is saved meanwhile.
    field_error = page.locator(".field.has-error .field-error")
    await expect(field_error).to_have_text("建设规模（平方米）：必须大于 0")
    await expect(page.get_by_role("alert")).to_contain_text("申请表有误")
    await page.screenshot(path=screenshots / "20-apply-invalid.png", full_page=True)
    errors.clear()  # the refused submission's 422 was the point
    action = await page.locator("form.apply-form").get_attribute("action")
    assert action and re.fullmatch(r"/me/drafts/[0-9a-f-]{36}", action), action
    await page.get_by_label("建设规模（平方米）").fill("12800.5")
    # Upload the first material with htmx: only its fieldset changes, what was typed stays.
    first = page.locator("#material-0")
    pdf = tmp_path / "申请表.pdf"
    pdf.write_bytes(pdf_bytes("browser-apply-M01"))
    await first.locator("input[type=file]").set_input_files(pdf)
    await page.evaluate("window.__stillHere = true")
    await first.get_by_role("button", name="上传/复用此材料").click()
    await expect(page.locator("#material-0 .material-files")).to_contain_text("申请表.pdf")
    assert await page.evaluate("window.__stillHere === true"), "the upload reloaded the page"
    assert await page.get_by_label("建设规模（平方米）").input_value() == "12800.5"
    # Reuse earlier uploads for the others (plain form post).
    for i in range(1, len(item["materials"])):
        select = page.locator(f"#reuse-{i}")
        await select.select_option(index=1)
    await page.get_by_role("button", name="保存草稿").click()
    await expect(page.get_by_role("status")).to_contain_text("草稿已保存")
    draft_url = page.url.split("?")[0]
    # Reopen from 我的 (我的草稿): the values and the materials are there.
    await page.goto(f"{portal}/me")
    await page.locator("#my-drafts").get_by_role("link", name=item["name"]).click()
    await page.wait_for_url(draft_url)
    assert await page.get_by_label("建设规模（平方米）").input_value() == "12800.5"
    assert await page.get_by_label("工程名称").input_value() == CONSTRUCTION_FORM["工程名称"]
    assert await page.locator("input[name=keep]:checked").count() == len(item["materials"])
    await page.get_by_role("button", name="提交申请").click()
    await page.wait_for_url(re.compile(r"/me/applications/[0-9a-f-]{36}\?submitted=1"))
    await expect(page.locator("#timeline")).to_contain_text("已提交申请")
    application_id = page.url.split("/")[-1].split("?")[0]
    case_no = await suite.case_no_of(applicant, application_id)
    acceptor = await suite.login("chuangkou")
    await suite.wait_staff_status(acceptor, case_no, "pending_acceptance")
    await suite.accept(acceptor, case_no)

    async def accepted() -> bool | None:
        await page.reload()
        return "已受理" in (await page.locator("#timeline").inner_text()) or None

    await eventually(accepted)
    await expect(page.locator("#timeline li")).to_have_count(3)  # 已提交, 已登记, 已受理 — in order
    titles = await page.locator("#timeline li strong").all_inner_texts()
    assert titles == ["已提交申请", "已登记，等待受理", "已受理"]
    await expect(page.locator("#due-date")).to_have_text(re.compile(r"^\d{4}-\d{2}-\d{2}$"))
    await expect(page.get_by_role("heading", name="撤回申请")).to_be_visible()
    await page.screenshot(path=screenshots / "21-timeline.png", full_page=True)
    assert errors == []
    await _axe_and_phone(
        browser,
        context,
        {"apply": f"{portal}/items/{CONSTRUCTION_PERMIT}/apply", "timeline": page.url, "me": f"{portal}/me"},
    )


async def _has(titles: Any, title: str) -> bool | None:
    return title in await titles() or None


async def _staff_sign_in(page: Page, console: str, username: str) -> None:
    await page.goto(console)
    await page.wait_for_url(re.compile(r"/console/sign-in\?next="))
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill("demo123")
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(console)


async def _accepted_case(suite: Suite, label: str) -> tuple[dict[str, str], str, str]:
    applicant = await suite.login("zhangsan")
    item = await suite.item(CONSTRUCTION_PERMIT)
    refs = await suite.upload_materials(applicant, item, label)
    submitted = await suite.submit(applicant, CONSTRUCTION_PERMIT, CONSTRUCTION_FORM, refs)
    case_no = await suite.case_no_of(applicant, submitted["application_id"])
    acceptor = await suite.login("chuangkou")
    await suite.wait_staff_status(acceptor, case_no, "pending_acceptance")
    await suite.accept(acceptor, case_no)
    return applicant, case_no, submitted["application_id"]


async def test_staff_complete_a_step_from_my_tasks_and_view_the_diagram(
    browser: Browser, context: BrowserContext, stack: Stack, suite: Suite, screenshots: Path
) -> None:
    applicant, case_no, application_id = await _accepted_case(suite, "browser-tasks")
    reviewer = await suite.login("shencha")
    await suite.task_for(reviewer, case_no)
    console = stack.url("business") + "/console/handle/"
    page = await context.new_page()
    errors = _errors(page)
    await _staff_sign_in(page, console, "shencha")
    await expect(page.get_by_role("heading", level=1)).to_have_text("我的待办")
    row = page.locator("table.tasks tr", has_text=case_no)
    await row.get_by_role("link", name="审查").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("审查")
    # 转办 to a department code that is not one: the API's rule, its message on the page.
    await page.locator("#transfer-org").evaluate("e => e.removeAttribute('pattern')")
    await page.get_by_label("转至单位（统一社会信用代码，留空为本单位）").fill("NOT-A-CODE")
    await page.get_by_label("转办原因").fill("涉及消防")
    await page.get_by_role("button", name="转办").click()
    await expect(page.locator("#action-error")).to_contain_text("请检查填写的内容")
    errors.clear()  # the refusal's 422 was the point
    await page.get_by_label("处理意见").fill("材料齐全，符合法定条件。")
    await page.get_by_role("button", name="提交办理").click()
    await page.wait_for_url(re.compile(r"/console/handle/\?done="))
    await expect(page.get_by_role("status").first).to_contain_text(case_no)
    await page.goto(stack.url("business") + f"/console/handle/cases/{case_no}")
    await expect(page.locator("table.steps")).to_contain_text("材料齐全，符合法定条件。")
    await page.screenshot(path=screenshots / "22-case.png", full_page=True)
    await page.get_by_role("link", name=re.compile(r"^v\d+$")).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("流程图")
    img = page.locator("figure.diagram img").first
    await expect(img).to_be_visible()
    assert await img.evaluate("i => i.complete && i.naturalWidth > 0"), "the diagram did not load"
    src = await img.get_attribute("src")
    svg = await page.request.get(stack.url("business") + str(src))
    assert svg.status == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in await svg.text()
    await page.screenshot(path=screenshots / "23-diagram.png", full_page=True)
    assert errors == []
    handle = stack.url("business") + "/console/handle"
    await _axe_and_phone(
        browser,
        context,
        {"tasks": handle + "/", "case": f"{handle}/cases/{case_no}", "diagram": page.url},
    )

    # The citizen's timeline shows the step.
    async def step_on_timeline() -> bool | None:
        r = await suite.gateway.get(f"/cases/{case_no}", headers=applicant)
        return any(t["title"] == "环节已办理：审查" for t in r.json()["timeline"]) or None

    await eventually(step_on_timeline)


async def test_correction_from_the_page_and_withdraw_rules_through_the_api(
    context: BrowserContext, portal: str, stack: Stack, suite: Suite, screenshots: Path
) -> None:
    applicant, case_no, application_id = await _accepted_case(suite, "browser-withdraw")
    gw = stack.url("gateway") + "/api/v1"
    async with httpx.AsyncClient(base_url=gw) as http:
        # Nothing was returned for correction: business refuses (409), as problem+json.
        r = await http.post(f"/cases/{case_no}/correction", json={"note": "补正"}, headers=applicant)
        assert r.status_code == 409, r.text
        assert r.headers["content-type"] == "application/problem+json"
        # Bad input and someone else's case.
        r = await http.post(f"/cases/{case_no}/withdraw", json={"reason": ""}, headers=applicant)
        assert r.status_code == 422
        other = await suite.login("lisi")
        r = await http.post(f"/cases/{case_no}/withdraw", json={"reason": "不是我的"}, headers=other)
        assert r.status_code == 404
        # 退回补正 by the reviewer: the citizen sees it, a correction that breaks the schema is 422,
        # a good one runs the clock again — each on the timeline.
        reviewer = await suite.login("shencha")
        task = await suite.task_for(reviewer, case_no)
        r = await suite.business.post(
            f"/tasks/{task['id']}/return",
            headers=reviewer,
            json={"to": "applicant", "reason": "建设规模与图纸不符"},
        )
        assert r.status_code == 200, r.text

        async def titles() -> list[str]:
            r = await http.get(f"/cases/{case_no}", headers=applicant)
            return [t["title"] for t in r.json()["timeline"]]

        await eventually(lambda: _has(titles, "退回补正：请按要求补正"))
        r = await http.post(
            f"/cases/{case_no}/correction", json={"form": {"建设规模": -1}, "note": "更正"}, headers=applicant
        )
        assert r.status_code == 422 and r.json()["code"] == "form_invalid"
        # The good correction from the timeline page (no JavaScript needed).
        page = await context.new_page()
        await _citizen_sign_in(page, portal)
        await page.goto(f"{portal}/me/applications/{application_id}")
        await expect(page.locator("#case-status")).to_contain_text("退回补正")
        await page.get_by_label("建设规模（平方米）").fill("12000")
        await page.get_by_label("补正说明").fill("已按图纸更正")
        await page.get_by_role("button", name="提交补正").click()
        await expect(page.get_by_role("status")).to_contain_text("补正已提交")
        await page.screenshot(path=screenshots / "24-corrected.png", full_page=True)
        await eventually(lambda: _has(titles, "已补正，恢复办理"))
        # A second correction is not asked for: business refuses it.
        r = await http.post(f"/cases/{case_no}/correction", json={"note": "再补"}, headers=applicant)
        assert r.status_code == 409
        # Withdraw before the decision, then nothing more.
        r = await http.post(f"/cases/{case_no}/withdraw", json={"reason": "项目计划调整"}, headers=applicant)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "withdrawn"

        async def withdrawn_on_timeline() -> bool | None:
            r = await http.get(f"/cases/{case_no}", headers=applicant)
            return any(t["title"] == "已撤回申请" for t in r.json()["timeline"]) or None

        await eventually(withdrawn_on_timeline)
        r = await http.post(f"/cases/{case_no}/withdraw", json={"reason": "再撤一次"}, headers=applicant)
        assert r.status_code == 409
