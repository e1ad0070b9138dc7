"""Case events as management would send them, and helpers to deliver them (tests only)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from gateway_support import FORM, ITEM_CODE, ORG, envelope

from yiwang_common.contracts.common import Applicant, DecisionDocument, ELicence, MissingMaterial, StepRecord
from yiwang_common.contracts.management import (
    CaseAccepted,
    CaseAcceptedWithMaterialsOwed,
    CaseCompleted,
    CaseRegistered,
    CaseRejected,
    CaseSupplementRequested,
)
from yiwang_common.db import session_scope
from yiwang_common.events import EventData
from yiwang_gateway.application.models import Application
from yiwang_gateway.progress import events as handlers

CASE_NO = "530428202611230000017"
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
M02 = MissingMaterial(code="M02", name="建设工程规划许可证")
M03 = MissingMaterial(code="M03", name="施工组织设计")


def case_applicant(account: Any) -> Applicant:
    return Applicant(
        account_id=str(account.id),
        name=account.name,
        kind="natural_person",
        id_type="111",
        id_number=account.id_number,
    )


def step_record(key: str, name: str, at: datetime) -> StepRecord:
    return StepRecord(
        step_key=key,
        step_name=name,
        action="pass",
        handler_id="h",
        handler_name="窗口受理员",
        started_at=at,
        ended_at=at,
        org=ORG,
    )


def registered(
    app_id: uuid.UUID, account: Any, missing: list[MissingMaterial] | None = None
) -> CaseRegistered:
    return CaseRegistered(
        case_no=CASE_NO,
        application_id=app_id,
        item_code=ITEM_CODE,
        item_name="建筑工程施工许可证核发",
        applicant=case_applicant(account),
        form=FORM,
        missing_materials=missing or [],
        registered_at=T0,
    )


def supplement_requested(
    app_id: uuid.UUID, account: Any, missing: list[MissingMaterial]
) -> CaseSupplementRequested:
    return CaseSupplementRequested(
        case_no=CASE_NO,
        application_id=app_id,
        applicant_id=str(account.id),
        notice_no="补正〔2026〕1号",
        missing_materials=missing,
        notice_text="请一次性补正以下材料：" + "、".join(m.name for m in missing),
        handler_name="窗口受理员",
        issued_at=T0 + timedelta(hours=1),
    )


def accepted(app_id: uuid.UUID, account: Any) -> CaseAccepted:
    at = T0 + timedelta(hours=2)
    return CaseAccepted(
        case_no=CASE_NO,
        application_id=app_id,
        item_code=ITEM_CODE,
        item_name="建筑工程施工许可证核发",
        implementing_org=ORG,
        applicant=case_applicant(account),
        form=FORM,
        materials=[],
        acceptance_notice_no=f"受理通知〔2026〕{CASE_NO}",
        handler_name="窗口受理员",
        accepted_at=at,
        clock_start=date(2026, 11, 23),
        promised_limit_days=5,
        due_date=date(2026, 11, 30),
        statutory_due_date=date(2026, 12, 2),
        step=step_record("accept", "受理", at),
    )


def accepted_with_materials_owed(app_id: uuid.UUID, account: Any) -> CaseAcceptedWithMaterialsOwed:
    return CaseAcceptedWithMaterialsOwed(
        case_no=CASE_NO,
        application_id=app_id,
        applicant_id=str(account.id),
        acceptance_notice_no=f"受理通知〔2026〕{CASE_NO}",
        pending_materials=[M03],
        supply_by=date(2026, 11, 27),
        handler_name="窗口受理员",
        accepted_at=T0 + timedelta(hours=1),
        case_kind="5",
    )


def rejected(app_id: uuid.UUID, account: Any) -> CaseRejected:
    at = T0 + timedelta(hours=2)
    return CaseRejected(
        case_no=CASE_NO,
        application_id=app_id,
        applicant_id=str(account.id),
        notice_no="不予受理〔2026〕1号",
        reason="不属于本机关职权范围",
        handler_name="窗口受理员",
        rejected_at=at,
        step=step_record("reject", "不予受理", at),
    )


def completed(app_id: uuid.UUID, account: Any) -> CaseCompleted:
    at = T0 + timedelta(days=2)
    decision = DecisionDocument(
        document_no="元住建施许〔2026〕第000001号",
        title="准予行政许可决定书",
        body="准予。",
        decided_at=at,
        decider_name="决定人",
        org=ORG,
    )
    licence = ELicence(
        identifier="1.2.156.3005.2.x.11530428015176456L.20261123000001.001.7",
        type_code="1" * 21,
        type_name="建筑工程施工许可证",
        licence_no="530428202611230101",
        holder_name=account.name,
        holder_code=account.id_number,
        holder_code_type="111",
        issuer=ORG,
        issued_on=at.date(),
        valid_from=at.date(),
        jurisdiction_code="530428",
        case_no=CASE_NO,
        item_code=ITEM_CODE,
    )
    return CaseCompleted(
        case_no=CASE_NO,
        application_id=app_id,
        applicant_id=str(account.id),
        item_code=ITEM_CODE,
        outcome="approved",
        decision=decision,
        licence=licence,
        completed_at=at,
        due_date=date(2026, 11, 30),
        on_time=True,
        working_days_used=2,
        steps=[step_record("apply", "申请", T0), step_record("accept", "受理", T0)],
    )


HANDLERS = {
    CaseRegistered: handlers.on_case_registered,
    CaseSupplementRequested: handlers.on_case_supplement_requested,
    CaseAccepted: handlers.on_case_accepted,
    CaseAcceptedWithMaterialsOwed: handlers.on_case_accepted_with_materials_owed,
    CaseRejected: handlers.on_case_rejected,
    CaseCompleted: handlers.on_case_completed,
}


async def deliver(sessionmaker: Any, *events: EventData) -> None:
    for data in events:
        async with session_scope(sessionmaker) as session:
            await HANDLERS[type(data)](session, envelope(data, subject=CASE_NO), data)  # type: ignore[operator]


async def submit_application(
    client: httpx.AsyncClient, headers: dict[str, str], materials: list[dict[str, str]] | None = None
) -> uuid.UUID:
    body = {"item_code": ITEM_CODE, "form": FORM, "materials": materials or []}
    r = await client.post("/api/v1/applications", json=body, headers=headers)
    assert r.status_code == 202, r.text
    return uuid.UUID(r.json()["application_id"])


async def stored_application(sessionmaker: Any, app_id: uuid.UUID) -> Application:
    async with session_scope(sessionmaker) as session:
        app = await session.get(Application, app_id)
    assert app is not None
    return app


async def case_view(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    r = await client.get(f"/api/v1/cases/{CASE_NO}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]
