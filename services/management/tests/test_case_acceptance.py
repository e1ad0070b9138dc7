"""Acceptance in full (ADR 0111): 六件管理 case types, the three notices as PDFs, 容缺受理 and
window intake, each through the REST API on PostgreSQL and the outbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from acceptance_support import PROGRESS, embedded_fonts, pdf_text, publish_variant, qr_codes
from management_factories import (
    ACCEPTOR,
    ADMIN,
    ALL_MATERIALS,
    APPLICANT,
    ITEM_CODE,
    OTHER_ACCEPTOR,
    auth,
    load_case,
    material,
    outbox,
    register,
    submitted,
    supplement,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.auth import Principal
from yiwang_common.calendar import WorkingDayCalendar
from yiwang_common.contracts.business import CaseDecided
from yiwang_common.contracts.codes import CaseKind, CaseType
from yiwang_common.contracts.common import DecisionDocument, Organisation, StepRecord
from yiwang_common.db import session_scope, utcnow
from yiwang_common.events import make_event
from yiwang_common.testing import bearer
from yiwang_management.case import kinds
from yiwang_management.case.handlers import CaseEventHandlers
from yiwang_management.catalogue.demo import from_item
from yiwang_management.catalogue.service import project
from yiwang_management.demo_items import demo_items
from yiwang_management.shared import local_date
from yiwang_management.supervision.models import CaseDeadline

ACCEPTED = "yiwang.management.case.accepted.v1"
REGISTERED = "yiwang.management.case.registered.v1"
REJECTED = "yiwang.management.case.rejected.v1"
OWED = "yiwang.management.case.accepted_with_materials_owed.v1"
RECEIVER = Principal(
    sub="staff-shoujian",
    name="收件刘芳",
    kind="staff",
    roles=frozenset({"receiver"}),
    org_code=ACCEPTOR.org_code,
)
OWNER = bearer(
    Principal(sub=APPLICANT.account_id, name="张三", kind="natural_person", roles=frozenset({"applicant"}))
)
STRANGER = bearer(
    Principal(sub="acct-lisi", name="李四", kind="natural_person", roles=frozenset({"applicant"}))
)
WITHOUT_M08 = [c for c in ALL_MATERIALS if c != "M08"]
ID_NUMBER = "11010519491231002X"
FORM = {
    "工程名称": "元江县滨江花园二期 3# 住宅楼",
    "建设地址": "元江县澧江街道滨江路 18 号",
    "建设规模": 12800.5,
    "合同价格": 3650,
    "建设单位": "元江县滨江置业有限公司",
    "施工单位": "云南建投第三建设有限公司",
    "计划开工日期": "2027-01-10",
    "计划竣工日期": "2028-06-30",
}


async def accept(
    client: httpx.AsyncClient, case_no: str, body: dict[str, Any] | None = None
) -> httpx.Response:
    return await client.post(f"/cases/{case_no}/accept", json=body or {}, headers=auth(ACCEPTOR))


async def decide(
    sessionmaker: async_sessionmaker[AsyncSession], handlers: CaseEventHandlers, case_no: str
) -> None:
    """Deliver the business system's decision to management's handler."""
    case = await load_case(sessionmaker, case_no)
    now = utcnow()
    data = CaseDecided(
        case_no=case_no,
        application_id=case.application_id,
        outcome="approved",
        decision=DecisionDocument(
            document_no=f"元建许〔2026〕{case_no[-4:]}",
            title="准予行政许可决定书",
            body="准予许可",
            decided_at=now,
            decider_name="局长",
            org=Organisation(name=case.org_name, code=case.org_code),
        ),
        item_code=case.item_code,
        steps=[
            StepRecord(
                step_key="decide",
                step_name="决定",
                action="pass",
                handler_id="staff-juezheng",
                handler_name="局长",
                opinion="准予",
                started_at=now,
                ended_at=now,
                org=Organisation(name=case.org_name, code=case.org_code),
            )
        ],
    )
    async with session_scope(sessionmaker) as session:
        await handlers.on_case_decided(session, make_event(data, source="urn:yiwang:530428:business"), data)


class TestCaseKindCodes:
    def test_six_kinds_keep_the_a6_codes_valid(self) -> None:
        assert [k.label for k in CaseKind] == ["即办件", "承诺件", "联办件", "上报件", "补办件", "退回件"]
        assert CaseKind("1").case_type is CaseType.IMMEDIATE and CaseKind("2").case_type is CaseType.PROMISED
        assert CaseKind.RETURNED.case_type is CaseType.OTHER and CaseKind.JOINT.case_type is CaseType.PROMISED
        assert [t.value for t in CaseType] == ["1", "2", "9"]


class TestCaseKinds:
    async def test_promised_case_runs_the_promised_limit(
        self, client: httpx.AsyncClient, case_no: str, calendar: WorkingDayCalendar
    ) -> None:
        body = (await accept(client, case_no)).json()
        assert (body["case_kind"], body["case_kind_name"]) == ("2", "承诺件")
        today = local_date(utcnow())
        assert body["due_date"] == calendar.add_working_days(today, 5).isoformat()

    async def test_immediate_case_is_due_the_same_day(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
        item: str,
    ) -> None:
        await publish_variant(sessionmaker, case_type="1")
        case_no = await register(sessionmaker, handlers, submitted())
        body = (await accept(client, case_no)).json()
        today = local_date(utcnow()).isoformat()
        assert body["case_kind_name"] == "即办件"
        assert body["due_date"] == today and body["promised_limit_days"] == 0
        async with session_scope(sessionmaker) as session:
            clock = await session.get(CaseDeadline, case_no)
            assert clock is not None and clock.due_date.isoformat() == today
        event = (await outbox(sessionmaker, ACCEPTED))[0]["data"]
        assert event["case_kind"] == "1" and event["due_date"] == today

    async def test_joint_case_names_every_department(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
        item: str,
    ) -> None:
        await publish_variant(sessionmaker, guide={"联办机构": ["元江县自然资源局", "元江县消防救援大队"]})
        case_no = await register(sessionmaker, handlers, submitted())
        assert (await outbox(sessionmaker, REGISTERED))[0]["data"]["case_kind"] == "3"
        assert (await accept(client, case_no)).json()["case_kind_name"] == "联办件"
        event = (await outbox(sessionmaker, ACCEPTED))[0]["data"]
        assert event["co_handling_orgs"] == ["元江县自然资源局", "元江县消防救援大队"]
        pdf = (await client.get(f"/cases/{case_no}/notices/acceptance.pdf", headers=auth(ACCEPTOR))).content
        assert "会同元江县自然资源局、元江县消防救援大队并联办理" in pdf_text(pdf)

    async def test_escalated_case_names_the_deciding_authority(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
        item: str,
    ) -> None:
        await publish_variant(sessionmaker, guide={"上报审批机关": "玉溪市住房和城乡建设局"})
        case_no = await register(sessionmaker, handlers, submitted())
        assert (await accept(client, case_no)).json()["case_kind_name"] == "上报件"
        assert (await outbox(sessionmaker, ACCEPTED))[0]["data"]["decision_org"] == "玉溪市住房和城乡建设局"
        pdf = (await client.get(f"/cases/{case_no}/notices/acceptance.pdf", headers=auth(ACCEPTOR))).content
        assert "报玉溪市住房和城乡建设局审批" in pdf_text(pdf)

    async def test_supplemented_case_clock_starts_when_the_last_material_arrives(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
        incomplete_case_no: str,
        calendar: WorkingDayCalendar,
    ) -> None:
        case_no = incomplete_case_no
        assert (
            await client.post(f"/cases/{case_no}/supplement-notice", json={}, headers=auth(ACCEPTOR))
        ).status_code == 200
        first, last = utcnow() - timedelta(days=3), utcnow() - timedelta(days=1)
        await supplement(sessionmaker, handlers, case_no, ["M03"], at=first)
        assert (await load_case(sessionmaker, case_no)).clock_start is None  # M08 still outstanding
        await supplement(sessionmaker, handlers, case_no, ["M08"], at=last)
        body = (await accept(client, case_no)).json()
        assert body["case_kind_name"] == "补办件"
        assert body["clock_start"] == local_date(last).isoformat()
        async with session_scope(sessionmaker) as session:
            clock = await session.get(CaseDeadline, case_no)
            assert clock is not None and clock.clock_start == local_date(last)
            assert clock.due_date == calendar.add_working_days(local_date(last), 5)

    async def test_returned_case_carries_the_reason(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], case_no: str
    ) -> None:
        r = await client.post(
            f"/cases/{case_no}/reject",
            json={"reason": "申请事项不属于本机关职权范围"},
            headers=auth(ACCEPTOR),
        )
        assert r.json()["case_kind_name"] == "退回件"
        assert (await outbox(sessionmaker, REJECTED))[0]["data"]["case_kind"] == "6"


class TestNoticePdfs:
    async def _check(self, response: httpx.Response, case_no: str, *texts: str) -> str:
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
        text = pdf_text(response.content)
        assert f"办件编号：{case_no}" in text
        for expected in texts:
            assert expected in text
        assert qr_codes(response.content) == [PROGRESS + case_no]
        assert embedded_fonts(response.content), "the CJK font must be embedded"
        return text

    async def test_acceptance_notice(self, client: httpx.AsyncClient, case_no: str) -> None:
        await accept(client, case_no)
        r = await client.get(f"/cases/{case_no}/notices/acceptance.pdf", headers=auth(ACCEPTOR))
        await self._check(r, case_no, "受理通知书", "决定予以受理", "承诺件", "承诺办结日期")

    async def test_one_time_notice_lists_every_material_with_its_reason(
        self, client: httpx.AsyncClient, incomplete_case_no: str
    ) -> None:
        notice = {
            "missing_materials": [
                {"code": "M03", "reason": "未提交"},
                {"code": "M08", "reason": "缺少银行出具的资金证明"},
            ]
        }
        await client.post(
            f"/cases/{incomplete_case_no}/supplement-notice", json=notice, headers=auth(ACCEPTOR)
        )
        r = await client.get(f"/cases/{incomplete_case_no}/notices/supplement.pdf", headers=OWNER)
        text = await self._check(
            r, incomplete_case_no, "一次性告知书", "（未提交）", "（缺少银行出具的资金证明）"
        )
        assert "自补齐之日起计算" in text

    async def test_refusal_notice_gives_reason_and_appeal_rights(
        self, client: httpx.AsyncClient, case_no: str
    ) -> None:
        await client.post(
            f"/cases/{case_no}/reject",
            json={"reason": "申请事项不属于本机关职权范围"},
            headers=auth(ACCEPTOR),
        )
        r = await client.get(f"/cases/{case_no}/notices/rejection.pdf", headers=OWNER)
        await self._check(
            r,
            case_no,
            "不予受理通知书",
            "申请事项不属于本机关职权范围",
            "60日内",
            "行政复议",
            "6个月内",
            "行政诉讼",
        )

    async def test_others_and_missing_notices_are_404_problems(
        self, client: httpx.AsyncClient, case_no: str
    ) -> None:
        await accept(client, case_no)
        for headers in (STRANGER, auth(OTHER_ACCEPTOR)):
            r = await client.get(f"/cases/{case_no}/notices/acceptance.pdf", headers=headers)
            assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
        r = await client.get(f"/cases/{case_no}/notices/rejection.pdf", headers=auth(ACCEPTOR))
        assert r.status_code == 404 and r.json()["code"] == "notice_not_issued"
        assert (
            await client.get(f"/cases/{case_no}/notices/other.pdf", headers=auth(ACCEPTOR))
        ).status_code == 422
        assert (
            await client.get(f"/cases/{case_no}/notices/acceptance.pdf", headers=auth(ADMIN))
        ).status_code == 403
        assert (await client.get(f"/cases/{case_no}/notices/acceptance.pdf")).status_code == 401


class TestDeferredAcceptance:
    @pytest.fixture
    async def deferrable_case(
        self, sessionmaker: async_sessionmaker[AsyncSession], handlers: CaseEventHandlers, item: str
    ) -> str:
        await publish_variant(sessionmaker, guide={"容缺受理": "是"}, deferrable=("M08",))
        return await register(sessionmaker, handlers, submitted(WITHOUT_M08))

    def _body(self, days: int = 5, code: str = "M08") -> dict[str, Any]:
        supply_by = (local_date(utcnow()) + timedelta(days=days)).isoformat()
        return {"deferred_materials": [{"code": code, "reason": "申请人承诺后补"}], "supply_by": supply_by}

    async def test_deferred_case_cannot_be_decided_until_the_material_arrives(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
        deferrable_case: str,
    ) -> None:
        case_no = deferrable_case
        body = (await accept(client, case_no, self._body())).json()
        assert body["status"] == "accepted" and body["case_kind_name"] == "补办件"
        assert [m["code"] for m in body["pending_materials"]] == ["M08"] and body["clock_start"] is None
        # Not handed to the department: no CaseAccepted, no clock; a decision that comes anyway is ignored.
        assert await outbox(sessionmaker, ACCEPTED) == []
        owed = (await outbox(sessionmaker, OWED))[0]["data"]
        assert [m["code"] for m in owed["pending_materials"]] == ["M08"] and owed["supply_by"] == body[
            "pending_due_date"
        ]
        await decide(sessionmaker, handlers, case_no)
        assert (await load_case(sessionmaker, case_no)).status == "accepted"
        pdf = (await client.get(f"/cases/{case_no}/notices/acceptance.pdf", headers=OWNER)).content
        assert "容缺受理" in pdf_text(pdf) and "建设资金已经落实的证明（申请人承诺后补）" in pdf_text(pdf)

        r = await client.post(
            f"/cases/{case_no}/deferred-materials",
            json={"materials": [material("M08", "later").model_dump(mode="json")]},
            headers=auth(RECEIVER),
        )
        assert r.status_code == 200, r.text
        today = local_date(utcnow()).isoformat()
        assert r.json()["pending_materials"] == [] and r.json()["clock_start"] == today
        assert len(await outbox(sessionmaker, ACCEPTED)) == 1
        await decide(sessionmaker, handlers, case_no)
        assert (await load_case(sessionmaker, case_no)).status == "completed"

    async def test_key_material_or_item_without_deferral_is_refused(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
        deferrable_case: str,
        item: str,
    ) -> None:
        key = await register(sessionmaker, handlers, submitted([c for c in ALL_MATERIALS if c != "M01"]))
        r = await accept(client, key, self._body(code="M01"))
        assert r.status_code == 422 and r.json()["code"] == "deferred_material_invalid"
        r = await accept(client, deferrable_case, self._body(days=-1))
        assert r.status_code == 422
        r = await accept(client, deferrable_case, {"deferred_materials": [{"code": "M08"}]})
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
        assert (await load_case(sessionmaker, deferrable_case)).status == "pending_acceptance"

    async def test_item_that_does_not_allow_deferral_is_409(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
        item: str,
    ) -> None:
        case_no = await register(sessionmaker, handlers, submitted(WITHOUT_M08))
        r = await accept(client, case_no, self._body())
        assert r.status_code == 409 and r.json()["code"] == "deferral_not_allowed"

    async def test_supplying_what_is_not_owed_is_refused(
        self, client: httpx.AsyncClient, deferrable_case: str, case_no: str
    ) -> None:
        await accept(client, deferrable_case, self._body())
        other = {"materials": [material("M01", "x").model_dump(mode="json")]}
        r = await client.post(
            f"/cases/{deferrable_case}/deferred-materials", json=other, headers=auth(ACCEPTOR)
        )
        assert r.status_code == 422 and r.json()["code"] == "deferred_material_invalid"
        r = await client.post(f"/cases/{case_no}/deferred-materials", json=other, headers=auth(ACCEPTOR))
        assert r.status_code == 409 and r.json()["code"] == "nothing_pending"


class TestWindowIntake:
    def _body(self, **changes: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "item_code": ITEM_CODE,
            "applicant": {"name": "王五", "id_number": ID_NUMBER, "phone": "13800000000"},
            "form": FORM,
            "paper_materials": list(ALL_MATERIALS[:-1]),
        }
        return body | changes

    async def test_staff_register_a_case_under_the_same_rules(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], item: str
    ) -> None:
        r = await client.post("/cases/window-intake", json=self._body(), headers=auth(RECEIVER))
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["channel"] == "window" and body["status"] == "pending_acceptance"
        assert body["applicant"]["id_number"] == ID_NUMBER
        assert [m["code"] for m in body["missing_materials"]] == ["M08"]
        assert [s["step_key"] for s in body["steps"]] == ["apply", "receive"]
        assert body["steps"][1]["handler_name"] == "收件刘芳"
        assert len(await outbox(sessionmaker, REGISTERED)) == 1
        # Same rules as online: no acceptance with a required material missing.
        assert (await accept(client, body["case_no"])).json()["code"] == "materials_missing"

    async def test_resent_form_registers_once(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], item: str
    ) -> None:
        body = self._body(application_id="4f5a9a55-0d3c-4d5e-9a5e-0b8a3c1d2e3f")
        first = await client.post("/cases/window-intake", json=body, headers=auth(RECEIVER))
        again = await client.post("/cases/window-intake", json=body, headers=auth(RECEIVER))
        assert first.json()["case_no"] == again.json()["case_no"]
        assert len(await outbox(sessionmaker, REGISTERED)) == 1

    @pytest.mark.parametrize(
        ("changes", "status", "code"),
        [
            ({"applicant": {"name": "王五", "id_number": "110105194912310021"}}, 422, "id_number_invalid"),
            ({"applicant": {"name": "王五", "id_number": "12345"}}, 422, "validation_failed"),
            ({"paper_materials": ["M01", "M01"]}, 422, "intake_material_invalid"),
            ({"paper_materials": ["X99"]}, 422, "intake_material_invalid"),
            ({"item_code": "11530428015170000X2000109003000"}, 409, "item_not_handled_here"),
            ({"form": {}}, 422, "form_invalid"),
        ],
    )
    async def test_bad_input_is_a_problem_and_changes_nothing(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        item: str,
        changes: dict[str, Any],
        status: int,
        code: str,
    ) -> None:
        r = await client.post("/cases/window-intake", json=self._body(**changes), headers=auth(RECEIVER))
        assert r.status_code == status, r.text
        assert r.headers["content-type"] == "application/problem+json" and r.json()["code"] == code
        assert await outbox(sessionmaker) == []

    async def test_other_unit_and_applicants_may_not(self, client: httpx.AsyncClient, item: str) -> None:
        r = await client.post("/cases/window-intake", json=self._body(), headers=auth(OTHER_ACCEPTOR))
        assert r.status_code == 409
        assert (
            await client.post("/cases/window-intake", json=self._body(), headers=OWNER)
        ).status_code == 403


class TestCatalogueIntakeRules:
    def test_catalogue_fields_reach_the_item_and_the_case_rules(self) -> None:
        base = from_item(demo_items()[0])
        materials = [m.model_copy(update={"deferrable": m.code == "M08"}) for m in base.content.materials]
        content = base.content.model_copy(
            update={
                "deferred_acceptance": True,
                "decision_org": "玉溪市住房和城乡建设局",
                "case_type": CaseType.IMMEDIATE,
                "materials": materials,
            }
        )
        item, _ = project(base.entry, ITEM_CODE, 1, content)
        rules = kinds.IntakeRules.of_item(item.case_type, item.guide)
        assert rules == kinds.IntakeRules(
            instant=True, co_handling_orgs=(), decision_org="玉溪市住房和城乡建设局", deferred_acceptance=True
        )
        assert [m.code for m in item.materials if m.deferrable] == ["M08"]
        assert kinds.kind_at_registration(rules) is CaseKind.ESCALATED
        plain, _ = project(base.entry, ITEM_CODE, 1, base.content)
        assert (
            "容缺受理" not in plain.guide
            and kinds.IntakeRules.of_item(plain.case_type, plain.guide) == kinds.IntakeRules()
        )


class TestNoticeAccess:
    async def test_administrator_reads_with_a_reason_and_the_read_is_audited(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], case_no: str
    ) -> None:
        await accept(client, case_no)
        headers = auth(ADMIN) | {"X-Access-Reason": "%E6%8A%95%E8%AF%89%E6%A0%B8%E6%9F%A5"}
        r = await client.get(f"/cases/{case_no}/notices/acceptance.pdf", headers=headers)
        assert r.status_code == 200
        audits = [e["data"] for e in await outbox(sessionmaker, "yiwang.management.audit.recorded.v1")]
        assert [(a["target_type"], a["target_id"], a["reason"]) for a in audits] == [
            ("case_notice", case_no, "投诉核查")
        ]

    async def test_list_shows_the_case_kind(self, client: httpx.AsyncClient, case_no: str) -> None:
        await accept(client, case_no)
        body = (await client.get("/cases", headers=auth(ACCEPTOR))).json()
        assert [(c["case_no"], c["case_kind_name"]) for c in body["items"]] == [(case_no, "承诺件")]
