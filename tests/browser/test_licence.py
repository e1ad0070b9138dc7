"""The e-licence in a real browser: a case approved through all four services, the holder's QR code
opening the public verification page, a revocation shown at once, the 决定书's progress page, and
axe-core finding no serious or critical violation on either page."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import zxingcpp
from PIL import Image
from playwright.async_api import Browser, BrowserContext, Page, expect
from pydantic import SecretStr

from scripts.flow import CONSTRUCTION_FORM, CONSTRUCTION_PERMIT, Suite, eventually, expect as expect_status
from scripts.stack import SERVICES, Stack
from tests.browser.catalogue import admin_headers
from yiwang_common.auth import ROLE_APPROVER, AuthSettings, Principal, TokenIssuer
from yiwang_common.keys import development_keypair

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
ORG_CODE = "11530428015176456L"


def approver_headers(var_dir: Path) -> dict[str, str]:
    """The issuing unit's approver, signed with the key of the test stack's installation."""
    principal = Principal(
        sub="browser-test-approver",
        name="决定人",
        kind="staff",
        roles=frozenset({ROLE_APPROVER}),
        org_code=ORG_CODE,
    )
    private_pem, public_pem = development_keypair(var_dir)
    settings = AuthSettings(private_key_pem=SecretStr(private_pem), public_key_pem=public_pem)
    return {"Authorization": f"Bearer {TokenIssuer(settings).issue(principal)}"}


@pytest.fixture(scope="module")
async def issued(stack: Stack) -> AsyncIterator[dict[str, Any]]:
    """张三's construction permit, approved through the whole flow; the licence as 我的证照 lists it."""
    suite = Suite.connect({svc.name: stack.url(svc.name) for svc in SERVICES})
    try:
        applicant = await suite.login("zhangsan")
        item = await suite.item(CONSTRUCTION_PERMIT)
        refs = await suite.upload_materials(applicant, item, "browser-licence")
        submitted = await suite.submit(applicant, CONSTRUCTION_PERMIT, CONSTRUCTION_FORM, refs)
        case_no = await suite.case_no_of(applicant, submitted["application_id"])
        acceptor = await suite.login("chuangkou")
        await suite.wait_staff_status(acceptor, case_no, "pending_acceptance")
        await suite.accept(acceptor, case_no)
        for username in ("shencha", "juece"):
            staff = await suite.login(username)
            task = await suite.task_for(staff, case_no)
            await suite.complete(staff, task["id"], "approve", "符合法定条件，准予许可")

        async def licence() -> dict[str, Any] | None:
            mine = expect_status(await suite.gateway.get("/me/licences", headers=applicant), 200)
            return next((m for m in mine if m["case_no"] == case_no), None)

        found = await eventually(licence)
        yield {"licence": found, "case_no": case_no, "applicant": applicant}
    finally:
        await suite.aclose()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    yield ctx
    await ctx.close()


async def decode_qr(page: Page, svg: str) -> list[str]:
    """Draw the QR code as the browser does and read it back, as a phone camera would."""
    await page.set_content(f"<!doctype html><body style='margin:40px;background:#fff'>{svg}</body>")
    shot = await page.screenshot()
    return [code.text for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)).convert("L"))]


async def axe_violations(browser: Browser, url: str) -> list[str]:
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


# Not in the demo catalogue nor the console test's (000109099000), and no 许可 in its texts: the
# portal tests count what a search finds.
REUSE_CODE = "11530428015176456L2000109097000"
REUSE_ITEM: dict[str, Any] = {
    "basic_code": "000109097000",
    "name": "建筑工程竣工验收备案",
    "item_type": "其他行政权力",
    "version": 1,
    "implementing_org": {"name": "元江县住房和城乡建设局", "code": ORG_CODE},
    "region_code": "530428",
    "service_object": ["企业法人"],
    "conditions": ["工程已竣工验收合格"],
    "materials": [
        {"code": "M01", "name": "竣工验收报告"},
        {
            "code": "M02",
            "name": "施工证照（电子证照）",
            "shareable": True,
            "licence_type_code": "11100000000013338W032",
        },
    ],
    "statutory_limit_days": 15,
    "promised_limit_days": 5,
    "guide": {"办理形式": ["网上办理"]},
    "form_schema": {"type": "object", "properties": {}},
}


async def test_the_licence_is_offered_instead_of_a_scan_and_management_asks_for_nothing_more(
    stack: Stack, issued: dict[str, Any]
) -> None:
    suite = Suite.connect({svc.name: stack.url(svc.name) for svc in SERVICES})
    try:
        published = await suite.management.put(
            f"/items/{REUSE_CODE}", json=REUSE_ITEM, headers=admin_headers(stack.var_dir)
        )
        assert published.status_code == 200, published.text
        await suite.item(REUSE_CODE)
        applicant = issued["applicant"]
        report = await suite.upload(applicant, b"%PDF-1.7\n% report\n%%EOF\n", "report.pdf")
        response = await suite.gateway.post(
            "/applications",
            headers=applicant,
            json={
                "item_code": REUSE_CODE,
                "form": {},
                "materials": [{"material_code": "M01", "sha256": report["sha256"]}],
                "licences": [{"material_code": "M02", "identifier": issued["licence"]["identifier"]}],
            },
        )
        assert response.status_code == 202, response.text
        case_no = await suite.case_no_of(applicant, response.json()["application_id"])
        acceptor = await suite.login("chuangkou")
        registered = await suite.wait_staff_status(acceptor, case_no, "pending_acceptance")
        # 共享协同: the licence satisfied M02, so the one-time notice has nothing to ask for.
        assert registered["missing_materials"] == []
        handed_in = {m["material_code"]: m for m in registered["materials"]}
        assert handed_in["M02"]["licence_identifier"] == issued["licence"]["identifier"]
    finally:
        await suite.aclose()


async def test_qr_code_opens_the_verification_page_and_a_revocation_shows_at_once(
    context: BrowserContext,
    browser: Browser,
    portal: str,
    stack: Stack,
    issued: dict[str, Any],
    screenshots: Path,
) -> None:
    licence = issued["licence"]
    page = await context.new_page()
    [scanned] = await decode_qr(page, licence["qr_svg"])
    assert scanned == licence["verify_url"]
    token = scanned.rsplit("/", 1)[1]
    assert licence["licence_no"] not in token

    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    await page.goto(f"{portal}/licences/verify/{token}")
    await expect(page.get_by_role("heading", level=1)).to_have_text("电子证照核验")
    await expect(page.get_by_role("status")).to_have_text("证照有效")
    body = page.locator("main")
    await expect(body).to_contain_text("建筑工程施工许可证")
    await expect(body).to_contain_text("张*")
    await expect(body).to_contain_text("元江县住房和城乡建设局")
    html = await page.content()
    for secret in ("530428199001011231", licence["licence_no"], issued["case_no"], "张三", "滨江花园"):
        assert secret not in html, secret
    await page.screenshot(path=screenshots / "licence-01-verify-valid.png", full_page=True)
    assert await axe_violations(browser, f"{portal}/licences/verify/{token}") == []

    async with httpx.AsyncClient() as http:
        revoked = await http.post(
            f"{stack.url('data-sharing')}/api/v1/licences/{licence['identifier']}/status",
            json={"status": "revoked", "reason": "以欺骗手段取得许可"},
            headers=approver_headers(stack.var_dir),
        )
    assert revoked.status_code == 200, revoked.text
    await page.reload()
    await expect(page.get_by_role("status")).to_have_text("证照已撤销")
    await page.screenshot(path=screenshots / "licence-02-verify-revoked.png", full_page=True)
    assert errors == [], errors


async def test_decision_pdf_qr_target_is_the_public_progress_page(
    context: BrowserContext,
    browser: Browser,
    portal: str,
    stack: Stack,
    issued: dict[str, Any],
    screenshots: Path,
) -> None:
    case_no = issued["case_no"]
    async with httpx.AsyncClient(timeout=30) as http:
        pdf = await http.get(
            f"{stack.url('business')}/api/v1/cases/{case_no}/decision.pdf", headers=issued["applicant"]
        )
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    page = await context.new_page()
    await page.goto(f"{portal}/progress/{case_no}")
    await expect(page.get_by_role("heading", level=1)).to_have_text("办件进度查询")
    main = page.locator("main")
    await expect(main).to_contain_text(case_no)
    await expect(main).to_contain_text("建筑工程施工许可证核发")
    await expect(main).to_contain_text(re.compile("准予许可|已办结|办结"))
    assert "张三" not in await page.content()
    await page.screenshot(path=screenshots / "licence-03-progress.png", full_page=True)
    assert await axe_violations(browser, f"{portal}/progress/{case_no}") == []
