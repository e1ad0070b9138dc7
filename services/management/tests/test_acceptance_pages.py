"""Console pages of window acceptance (ADR 0111): the queue, the one-time notice composer
(choose → preview → issue), the notice PDFs, 容缺受理 and window intake, with CSRF."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from acceptance_support import PROGRESS, pdf_text, publish_variant, qr_codes
from management_factories import (
    ACCEPTOR,
    ALL_MATERIALS,
    ITEM_CODE,
    REVIEWER,
    Browser,
    load_case,
    outbox,
    register,
    submitted,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from test_case_acceptance import FORM, ID_NUMBER, WITHOUT_M08

from yiwang_common.auth import Principal
from yiwang_common.db import utcnow
from yiwang_management.case.handlers import CaseEventHandlers
from yiwang_management.shared import local_date

ACCEPTANCE = "/console/manage/acceptance"


class TestAcceptancePages:
    async def test_queue_compose_preview_issue_and_download(
        self,
        browser: Callable[[Principal], Browser],
        sessionmaker: async_sessionmaker[AsyncSession],
        incomplete_case_no: str,
    ) -> None:
        staff = browser(ACCEPTOR)
        queue = await staff.http.get(ACCEPTANCE)
        assert queue.status_code == 200 and incomplete_case_no in queue.text
        composer = await staff.http.get(f"{ACCEPTANCE}/{incomplete_case_no}/notice")
        assert 'value="M03" checked' in composer.text and 'value="M01">' in composer.text
        form = {
            "csrf": staff.csrf,
            "material": ["M03", "M08"],
            "reason_M03": "未提交",
            "reason_M08": "缺少银行出具的资金证明",
            "action": "preview",
        }
        preview = await staff.http.post(f"{ACCEPTANCE}/{incomplete_case_no}/notice", data=form)
        assert (
            preview.status_code == 200 and "建设资金已经落实的证明（缺少银行出具的资金证明）" in preview.text
        )
        assert (await load_case(sessionmaker, incomplete_case_no)).status == "pending_acceptance"
        omitted = await staff.http.post(
            f"{ACCEPTANCE}/{incomplete_case_no}/notice", data=form | {"material": ["M03"], "action": "issue"}
        )
        assert omitted.status_code == 422 and "遗漏" in omitted.text
        forged = await staff.http.post(f"{ACCEPTANCE}/{incomplete_case_no}/notice", data=form | {"csrf": "x"})
        assert forged.status_code == 400
        issued = await staff.http.post(
            f"{ACCEPTANCE}/{incomplete_case_no}/notice", data=form | {"action": "issue"}
        )
        assert issued.status_code == 303
        assert (await load_case(sessionmaker, incomplete_case_no)).status == "awaiting_supplement"
        page = await staff.http.get(issued.headers["location"])
        assert "一次性告知书（PDF）" in page.text
        pdf = await staff.http.get(f"{ACCEPTANCE}/{incomplete_case_no}/notices/supplement.pdf")
        assert pdf.headers["content-type"] == "application/pdf"
        assert f"办件编号：{incomplete_case_no}" in pdf_text(pdf.content)
        assert qr_codes(pdf.content) == [PROGRESS + incomplete_case_no]

    async def test_deferred_acceptance_and_supply_from_the_case_page(
        self,
        browser: Callable[[Principal], Browser],
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
        item: str,
    ) -> None:
        await publish_variant(sessionmaker, guide={"容缺受理": "是"}, deferrable=("M08",))
        case_no = await register(sessionmaker, handlers, submitted(WITHOUT_M08))
        staff = browser(ACCEPTOR)
        page = await staff.http.get(f"{ACCEPTANCE}/{case_no}")
        assert "容缺受理" in page.text and 'name="deferred" value="M08"' in page.text
        supply_by = (local_date(utcnow()) + timedelta(days=3)).isoformat()
        r = await staff.http.post(
            f"{ACCEPTANCE}/{case_no}/accept",
            data={"csrf": staff.csrf, "deferred": "M08", "supply_by": supply_by},
        )
        assert r.status_code == 303
        assert (await load_case(sessionmaker, case_no)).pending_materials
        assert await outbox(sessionmaker, "yiwang.management.case.accepted.v1") == []
        r = await staff.http.post(
            f"{ACCEPTANCE}/{case_no}/deferred-materials", data={"csrf": staff.csrf, "supplied": "M08"}
        )
        assert r.status_code == 303
        assert (await load_case(sessionmaker, case_no)).pending_materials == []
        assert len(await outbox(sessionmaker, "yiwang.management.case.accepted.v1")) == 1

    async def test_window_intake_form_registers_a_case(
        self,
        browser: Callable[[Principal], Browser],
        sessionmaker: async_sessionmaker[AsyncSession],
        item: str,
    ) -> None:
        staff = browser(ACCEPTOR)
        page = await staff.http.get("/console/manage/window-intake", params={"item_code": ITEM_CODE})
        assert page.status_code == 200 and 'name="f_建设地址"' in page.text
        application_id = page.text.split('name="application_id" value="')[1].split('"')[0]
        data = {
            "csrf": staff.csrf,
            "application_id": application_id,
            "item_code": ITEM_CODE,
            "name": "王五",
            "id_number": ID_NUMBER,
            "paper": list(ALL_MATERIALS),
        } | {f"f_{k}": str(v) for k, v in FORM.items()}
        r = await staff.http.post("/console/manage/window-intake", data=data)
        assert r.status_code == 303, r.text
        case_page = await staff.http.get(r.headers["location"])
        assert "政务服务窗口" in case_page.text and "窗口收件" in case_page.text
        bad = await staff.http.post(
            "/console/manage/window-intake", data=data | {"id_number": "110105194912310021"}
        )
        assert bad.status_code == 422 and "校验" in bad.text

    async def test_reviewer_may_not_act_at_the_window(
        self, browser: Callable[[Principal], Browser], case_no: str
    ) -> None:
        reviewer = browser(REVIEWER)
        r = await reviewer.http.post(f"{ACCEPTANCE}/{case_no}/accept", data={"csrf": reviewer.csrf})
        assert r.status_code == 403
        assert (await reviewer.http.get("/console/manage/window-intake")).status_code == 403
