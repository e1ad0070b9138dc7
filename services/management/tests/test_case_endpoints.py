"""Case REST endpoints: listing, detail, acceptance, one-time notices and refusal, with their problems."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest
from management_factories import (
    ACCEPTOR,
    ADMIN,
    OTHER_ACCEPTOR,
    REVIEWER,
    SUPERVISOR,
    auth,
    count,
    load_case,
    outbox,
    supplement,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.auth import Principal
from yiwang_common.calendar import WorkingDayCalendar
from yiwang_common.db import utcnow
from yiwang_management.case.handlers import CaseEventHandlers
from yiwang_management.case.models import CaseStep
from yiwang_management.shared import local_date

ACCEPTED = "yiwang.management.case.accepted.v1"
NOTICE = "yiwang.management.case.supplement_requested.v1"
REJECTED = "yiwang.management.case.rejected.v1"


async def snapshot(sessionmaker: async_sessionmaker[AsyncSession], case_no: str) -> tuple[Any, ...]:
    """What a refused request must leave untouched: status, missing list, steps and outbox."""
    case = await load_case(sessionmaker, case_no)
    return (
        case.status,
        case.missing_materials,
        await count(sessionmaker, CaseStep),
        len(await outbox(sessionmaker)),
    )


class TestListCases:
    async def test_lists_own_units_cases_newest_first(
        self, client: httpx.AsyncClient, case_no: str, incomplete_case_no: str
    ) -> None:
        response = await client.get("/cases", headers=auth(SUPERVISOR))
        assert response.status_code == 200
        body = response.json()
        assert [c["case_no"] for c in body["items"]] == [incomplete_case_no, case_no]
        assert body["pagination"] == {"total_count": 2, "max_page": 1}
        assert [m["code"] for m in body["items"][0]["missing_materials"]] == ["M03", "M08"]
        assert body["items"][0]["status_text"] == "待受理"

    async def test_filters_by_status_and_item(
        self, client: httpx.AsyncClient, case_no: str, incomplete_case_no: str, item: str
    ) -> None:
        await client.post(f"/cases/{case_no}/accept", json={}, headers=auth(ACCEPTOR))
        pending = (
            await client.get("/cases", params={"status": "pending_acceptance"}, headers=auth(ACCEPTOR))
        ).json()
        assert [c["case_no"] for c in pending["items"]] == [incomplete_case_no]
        other_item = (await client.get("/cases", params={"item_code": "X"}, headers=auth(ACCEPTOR))).json()
        assert other_item["items"] == []

    async def test_other_unit_sees_nothing(self, client: httpx.AsyncClient, case_no: str) -> None:
        body = (await client.get("/cases", headers=auth(OTHER_ACCEPTOR))).json()
        assert body["items"] == [] and body["pagination"]["total_count"] == 0

    async def test_unknown_status_is_422(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/cases", params={"status": "lost"}, headers=auth(ACCEPTOR))
        assert response.status_code == 422

    async def test_applicant_is_403_reviewer_reads_and_anonymous_401(
        self, client: httpx.AsyncClient, case_no: str
    ) -> None:
        applicant = Principal(
            sub="acct-zhangsan", name="张三", kind="natural_person", roles=frozenset({"applicant"})
        )
        assert (await client.get("/cases", headers=auth(applicant))).status_code == 403
        # 审查人 handle the unit's cases, so they read its list (ADR 0105).
        listed = (await client.get("/cases", headers=auth(REVIEWER))).json()
        assert [c["case_no"] for c in listed["items"]] == [case_no]
        assert (await client.get("/cases")).status_code == 401


class TestGetCase:
    async def test_detail_shows_applicant_materials_and_steps(
        self, client: httpx.AsyncClient, case_no: str
    ) -> None:
        response = await client.get(f"/cases/{case_no}", headers=auth(ACCEPTOR))
        assert response.status_code == 200
        body = response.json()
        assert body["applicant"]["name"] == "张三"
        assert body["item"]["name"] == "建筑工程施工许可证核发"
        assert len(body["materials"]) == 8
        assert body["steps"][0]["step_key"] == "apply" and body["steps"][0]["duration_seconds"] == 0
        assert body["on_time"] is None and body["due_date"] is None

    async def test_another_units_case_is_404(self, client: httpx.AsyncClient, case_no: str) -> None:
        response = await client.get(f"/cases/{case_no}", headers=auth(OTHER_ACCEPTOR))
        assert response.status_code == 404
        assert response.json()["code"] == "case_not_found"

    async def test_unknown_case_is_404(self, client: httpx.AsyncClient) -> None:
        response = await client.get(
            "/cases/530428202611230000017", headers={**auth(ADMIN), "X-Access-Reason": "complaint-2026-17"}
        )
        assert response.status_code == 404


class TestAcceptCase:
    async def test_accept_sets_deadlines_and_emits_case_accepted(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        calendar: WorkingDayCalendar,
        case_no: str,
    ) -> None:
        response = await client.post(
            f"/cases/{case_no}/accept", json={"opinion": "同意受理"}, headers=auth(ACCEPTOR)
        )
        assert response.status_code == 200
        body = response.json()
        today = local_date(utcnow())
        assert body["status"] == "accepted"
        assert body["clock_start"] == today.isoformat()
        assert body["due_date"] == calendar.add_working_days(today, 5).isoformat()
        assert body["statutory_due_date"] == calendar.add_working_days(today, 7).isoformat()
        assert body["acceptance_notice_no"] == f"受理通知〔{today.year}〕{case_no}"
        accept_step = body["steps"][-1]
        assert (accept_step["step_key"], accept_step["handler_name"], accept_step["opinion"]) == (
            "accept",
            ACCEPTOR.name,
            "同意受理",
        )
        (event,) = await outbox(sessionmaker, ACCEPTED)
        assert event["subject"] == case_no
        assert event["data"]["implementing_org"]["code"] == ACCEPTOR.org_code
        assert event["data"]["step"]["step_key"] == "accept"
        assert len(event["data"]["materials"]) == 8

    async def test_missing_materials_is_409_listing_them(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        incomplete_case_no: str,
    ) -> None:
        before = await snapshot(sessionmaker, incomplete_case_no)
        response = await client.post(f"/cases/{incomplete_case_no}/accept", json={}, headers=auth(ACCEPTOR))
        assert response.status_code == 409
        body = response.json()
        assert body["code"] == "materials_missing"
        assert [m["code"] for m in body["missing_materials"]] == ["M03", "M08"]
        assert await snapshot(sessionmaker, incomplete_case_no) == before

    async def test_accepting_twice_is_409_naming_the_status(
        self, client: httpx.AsyncClient, case_no: str
    ) -> None:
        await client.post(f"/cases/{case_no}/accept", headers=auth(ACCEPTOR))
        response = await client.post(f"/cases/{case_no}/accept", headers=auth(ACCEPTOR))
        assert response.status_code == 409
        assert response.json()["code"] == "case_state_conflict"
        assert response.json()["current_status"] == "accepted"

    async def test_another_units_case_is_404_and_unchanged(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], case_no: str
    ) -> None:
        response = await client.post(f"/cases/{case_no}/accept", json={}, headers=auth(OTHER_ACCEPTOR))
        assert response.status_code == 404
        assert (await load_case(sessionmaker, case_no)).status == "pending_acceptance"

    async def test_supervisor_may_not_accept(self, client: httpx.AsyncClient, case_no: str) -> None:
        response = await client.post(f"/cases/{case_no}/accept", json={}, headers=auth(SUPERVISOR))
        assert response.status_code == 403

    @pytest.mark.parametrize("body", [{"opinion": ""}, {"opinion": "x" * 501}, {"other": 1}, [1]])
    async def test_bad_body_is_422_and_changes_nothing(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        case_no: str,
        body: Any,
    ) -> None:
        before = await snapshot(sessionmaker, case_no)
        response = await client.post(f"/cases/{case_no}/accept", json=body, headers=auth(ACCEPTOR))
        assert response.status_code == 422
        assert await snapshot(sessionmaker, case_no) == before

    async def test_accept_after_supplement_starts_the_clock_on_supplement_day(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
        calendar: WorkingDayCalendar,
        incomplete_case_no: str,
    ) -> None:
        await client.post(f"/cases/{incomplete_case_no}/supplement-notice", json={}, headers=auth(ACCEPTOR))
        await supplement(sessionmaker, handlers, incomplete_case_no, ["M03", "M08"])
        body = (await client.post(f"/cases/{incomplete_case_no}/accept", headers=auth(ACCEPTOR))).json()
        case = await load_case(sessionmaker, incomplete_case_no)
        assert case.last_supplemented_at is not None
        assert body["clock_start"] == local_date(case.last_supplemented_at).isoformat()
        keys = [s["step_key"] for s in body["steps"]]
        assert keys == ["apply", "supplement_notice", "supplement", "accept"]
        assert datetime.fromisoformat(body["steps"][-1]["started_at"]) == case.last_supplemented_at


class TestSupplementNotice:
    async def test_default_notice_lists_every_missing_material(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        incomplete_case_no: str,
    ) -> None:
        response = await client.post(
            f"/cases/{incomplete_case_no}/supplement-notice",
            json={"note": "请加盖公章"},
            headers=auth(ACCEPTOR),
        )
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "awaiting_supplement"
        assert [m["code"] for m in body["missing_materials"]] == ["M03", "M08"]
        text = body["supplement_notice"]["notice_text"]
        assert "建设工程规划许可证" in text and "建设资金已经落实的证明" in text and "请加盖公章" in text
        (event,) = await outbox(sessionmaker, NOTICE)
        assert event["data"]["notice_no"] == body["supplement_notice"]["notice_no"]
        assert [m["code"] for m in event["data"]["missing_materials"]] == ["M03", "M08"]
        assert body["steps"][-1]["step_key"] == "supplement_notice"

    async def test_given_list_may_add_reasons_and_other_materials(
        self, client: httpx.AsyncClient, incomplete_case_no: str
    ) -> None:
        notice = {
            "missing_materials": [
                {"code": "M03"},
                {"code": "M08", "reason": "未提交"},
                {"code": "M06", "reason": "扫描件不清晰"},
            ]
        }
        response = await client.post(
            f"/cases/{incomplete_case_no}/supplement-notice", json=notice, headers=auth(ACCEPTOR)
        )
        assert response.status_code == 200
        assert [(m["code"], m["reason"]) for m in response.json()["missing_materials"]] == [
            ("M03", "未提交"),
            ("M08", "未提交"),
            ("M06", "扫描件不清晰"),
        ]

    async def test_notice_omitting_a_missing_material_is_422(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        incomplete_case_no: str,
    ) -> None:
        before = await snapshot(sessionmaker, incomplete_case_no)
        response = await client.post(
            f"/cases/{incomplete_case_no}/supplement-notice",
            json={"missing_materials": [{"code": "M03"}]},
            headers=auth(ACCEPTOR),
        )
        assert response.status_code == 422
        assert response.json()["code"] == "notice_incomplete"
        assert [m["code"] for m in response.json()["omitted_materials"]] == ["M08"]
        assert await snapshot(sessionmaker, incomplete_case_no) == before

    @pytest.mark.parametrize("codes", [["M03", "M08", "M99"], ["M03", "M08", "M08"]])
    async def test_unknown_or_repeated_material_is_422(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        incomplete_case_no: str,
        codes: list[str],
    ) -> None:
        before = await snapshot(sessionmaker, incomplete_case_no)
        notice = {"missing_materials": [{"code": c} for c in codes]}
        response = await client.post(
            f"/cases/{incomplete_case_no}/supplement-notice", json=notice, headers=auth(ACCEPTOR)
        )
        assert response.status_code == 422
        assert response.json()["code"] == "notice_material_invalid"
        assert await snapshot(sessionmaker, incomplete_case_no) == before

    async def test_nothing_missing_is_409(self, client: httpx.AsyncClient, case_no: str) -> None:
        bodies: list[dict[str, Any]] = [{}, {"missing_materials": []}]
        for body in bodies:
            response = await client.post(
                f"/cases/{case_no}/supplement-notice", json=body, headers=auth(ACCEPTOR)
            )
            assert response.status_code == 409
            assert response.json()["code"] == "nothing_missing"

    async def test_notice_after_acceptance_is_409(self, client: httpx.AsyncClient, case_no: str) -> None:
        await client.post(f"/cases/{case_no}/accept", headers=auth(ACCEPTOR))
        response = await client.post(f"/cases/{case_no}/supplement-notice", json={}, headers=auth(ACCEPTOR))
        assert response.status_code == 409
        assert response.json()["code"] == "case_state_conflict"

    async def test_another_units_case_is_404(
        self, client: httpx.AsyncClient, incomplete_case_no: str
    ) -> None:
        response = await client.post(
            f"/cases/{incomplete_case_no}/supplement-notice", json={}, headers=auth(OTHER_ACCEPTOR)
        )
        assert response.status_code == 404


class TestRejectCase:
    async def test_reject_records_reason_and_emits_case_rejected(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], case_no: str
    ) -> None:
        reason = "申请事项依法不需要取得行政许可"
        response = await client.post(
            f"/cases/{case_no}/reject", json={"reason": reason}, headers=auth(ACCEPTOR)
        )
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "not_accepted" and body["rejection"]["reason"] == reason
        (event,) = await outbox(sessionmaker, REJECTED)
        assert event["data"]["reason"] == reason
        assert (
            event["data"]["step"]["step_key"] == "reject" and event["data"]["step"]["step_name"] == "不予受理"
        )

    async def test_reject_while_awaiting_supplement(
        self, client: httpx.AsyncClient, incomplete_case_no: str
    ) -> None:
        await client.post(f"/cases/{incomplete_case_no}/supplement-notice", json={}, headers=auth(ACCEPTOR))
        response = await client.post(
            f"/cases/{incomplete_case_no}/reject", json={"reason": "逾期未补正"}, headers=auth(ACCEPTOR)
        )
        assert response.status_code == 200

    @pytest.mark.parametrize("body", [{}, {"reason": "   "}, {"reason": "x" * 501}])
    async def test_missing_or_blank_reason_is_422_and_changes_nothing(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        case_no: str,
        body: Any,
    ) -> None:
        before = await snapshot(sessionmaker, case_no)
        response = await client.post(f"/cases/{case_no}/reject", json=body, headers=auth(ACCEPTOR))
        assert response.status_code == 422
        assert await snapshot(sessionmaker, case_no) == before

    async def test_reject_after_acceptance_is_409(self, client: httpx.AsyncClient, case_no: str) -> None:
        await client.post(f"/cases/{case_no}/accept", headers=auth(ACCEPTOR))
        response = await client.post(
            f"/cases/{case_no}/reject", json={"reason": "理由"}, headers=auth(ACCEPTOR)
        )
        assert response.status_code == 409
        assert "已受理" in response.json()["detail"]

    async def test_another_units_case_is_404(self, client: httpx.AsyncClient, case_no: str) -> None:
        response = await client.post(
            f"/cases/{case_no}/reject", json={"reason": "理由"}, headers=auth(OTHER_ACCEPTOR)
        )
        assert response.status_code == 404
