"""联办分件补正 in a real browser (ADR 0127): the 住建局 part of a citizen's joint case is sent back
for a 补正 in business; the citizen opens 我的办件, sees that department's 补正 form (only for the
part that asked), uploads the file with a note and submits; the part is 办理中 again and business's
task runs with the material. axe-core finds no serious or critical violation on the page."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, expect

from scripts.flow import CONSTRUCTION_PERMIT, Suite, eventually
from scripts.stack import Stack
from tests.browser.catalogue import ID_CARD_CODE, admin_headers
from tests.browser.test_case_pages import _citizen_sign_in
from tests.browser.test_supervision_console import _axe

HOUSING = "元江县住房和城乡建设局"


def _sub(auth: dict[str, str]) -> str:
    token = auth["Authorization"].split(" ", 1)[1]
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["sub"])


async def test_the_citizen_hands_in_a_departments_correction_from_my_case(
    browser: Browser, stack: Stack, screenshots: Path, tmp_path: Path
) -> None:
    suite = Suite.connect(
        {name: stack.url(name) for name in ("gateway", "management", "business", "data-sharing")}
    )
    try:
        citizen = await suite.login("zhangsan")
        window = await suite.login("chuangkou")
        reviewer = await suite.login("shencha")
        applicant = {
            "account_id": _sub(citizen),
            "name": "张三",
            "kind": "natural_person",
            "id_type": "111",
            "id_number": "530428199001011231",
        }
        async with httpx.AsyncClient(base_url=stack.url("management") + "/api/v1", timeout=30) as http:
            # The 住建局 item on the built-in workflow (another test may have given it a system).
            r = await http.put(
                f"/plugin/items/{CONSTRUCTION_PERMIT}/handler",
                json={"handler": "builtin"},
                headers=admin_headers(stack.var_dir),
            )
            assert r.status_code == 200, r.text
            r = await http.post(
                "/joint-cases",
                json={
                    "theme_name": "建设项目开工一件事",
                    "item_codes": [CONSTRUCTION_PERMIT, ID_CARD_CODE],
                    "applicant": applicant,
                    "form": {},
                },
                headers=window,
            )
            assert r.status_code == 201, r.text
        case: dict[str, Any] = r.json()
        joint_no = case["joint_no"]
        housing, police = (p["part_no"] for p in case["parts"])
        task = await suite.task_for(reviewer, housing)
        r = await suite.business.post(
            f"/tasks/{task['id']}/return",
            json={"to": "applicant", "reason": "请补充施工图设计文件审查合格书"},
            headers=reviewer,
        )
        assert r.status_code == 200, r.text

        async def waiting() -> dict[str, Any] | None:
            r = await suite.gateway.get(f"/cases/{joint_no}", headers=citizen)
            mine: dict[str, Any] = r.json() if r.status_code == 200 else {}
            return mine if mine and mine["parts"][0]["status"] == "awaiting_supplement" else None

        mine = await eventually(waiting)
        ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        page = await ctx.new_page()
        await _citizen_sign_in(page, stack.url("gateway"))
        url = f"{stack.url('gateway')}/me/applications/{mine['application_id']}"
        await page.goto(url)
        await expect(page.locator(f'#joint-parts tr[data-part="{housing}"]')).to_contain_text("待补正")
        forms = page.locator("section.joint-supplement")
        await expect(forms).to_have_count(1)  # only the department that asked
        form = page.locator(f'section.joint-supplement[data-part="{housing}"]')
        await expect(form.get_by_role("heading", level=2)).to_have_text(f"补正：{HOUSING}")
        await expect(form).to_contain_text("请补充施工图设计文件审查合格书")
        await form.get_by_label("补正材料").select_option("M06")
        pdf = tmp_path / "审查合格书.pdf"
        pdf.write_bytes(b"%PDF-1.4\n% joint part correction\n")
        sha = hashlib.sha256(pdf.read_bytes()).hexdigest()
        await form.get_by_label("上传文件").set_input_files(str(pdf))
        await form.get_by_label("补正说明").fill("已补充审查合格书")
        await page.screenshot(path=screenshots / "joint-04-part-supplement.png", full_page=True)
        found = await _axe(browser, await ctx.cookies(), {"my-case": url})  # type: ignore[arg-type]
        assert found == {}, f"axe-core violations: {found}"
        await form.get_by_role("button", name="提交补正").click()
        await expect(page.get_by_role("status")).to_contain_text("补正已提交，已送达提出补正的部门。")

        async def going_on() -> bool | None:
            await page.reload()
            row = page.locator(f'#joint-parts tr[data-part="{housing}"]')
            return "办理中" in (await row.inner_text()) or None

        await eventually(going_on)
        await expect(page.locator("section.joint-supplement")).to_have_count(0)
        await expect(page.locator("#timeline")).to_contain_text(f"{HOUSING}：办理中")

        # business's task goes on with the file; the other department's part was never touched.
        async def task_with_material() -> dict[str, Any] | None:
            r = await suite.business.get(f"/tasks/{task['id']}", headers=reviewer)
            detail: dict[str, Any] = r.json()
            found = [m for m in detail["case"]["materials"] if m["sha256"] == sha]
            return detail if found and detail["status"] == "open" else None

        await eventually(task_with_material)
        mine = await suite.my_case(citizen, joint_no)
        assert [p["part_no"] for p in mine["parts"]] == [housing, police]
        assert mine["parts"][1]["status"] != "awaiting_supplement"
        await ctx.close()
    finally:
        await suite.aclose()
