"""Event handlers that project management's case events (所有权在管理平台) onto the applicant's view,
and the ``ApplicationSupplemented`` builder.

Every handler upserts by application_id and only ever moves the status forward; timeline
entries carry the event id, so a replay adds nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.contracts.common import Agent, Applicant, MaterialRef, MissingMaterial
from yiwang_common.contracts.gateway import ApplicationSupplemented
from yiwang_common.contracts.lifecycle import CaseStatus, supersedes
from yiwang_common.contracts.management import (
    CaseAccepted,
    CaseAcceptedWithMaterialsOwed,
    CaseCompleted,
    CaseRegistered,
    CaseRejected,
    CaseSupplementRequested,
    DeliveryCompleted,
    DeliveryDispatched,
    DeliveryTrackingUpdated,
    JointCaseCompleted,
    JointCaseOpened,
    JointPartChanged,
    PaymentOrderPaid,
)
from yiwang_common.db import utcnow
from yiwang_common.events import EventEnvelope, RetryLater, make_event
from yiwang_gateway.application.models import Application
from yiwang_gateway.application.repository import TimelineRepository
from yiwang_gateway.application.status import OUTCOME_TEXT, PART_STATUS_TEXT
from yiwang_gateway.progress.repository import ProgressRepository

log = logging.getLogger(__name__)


def _names(missing: list[MissingMaterial]) -> str:
    return "、".join(m.name for m in missing)


def _new_application(
    application_id: uuid.UUID,
    *,
    applicant: Applicant,
    item_code: str,
    item_name: str,
    form: dict[str, Any],
    materials: list[MaterialRef],
) -> dict[str, Any]:
    # A case the portal did not submit itself (e.g. registered at the window) still belongs to its applicant.
    return {
        "id": application_id,
        "applicant_id": applicant.account_id,
        "applicant": applicant.model_dump(mode="json"),
        "item_code": item_code,
        "item_name": item_name,
        "form": form,
        "materials": [m.model_dump(mode="json") for m in materials],
        "missing_materials": [],
        "steps": [],
    }


async def _project(
    session: AsyncSession,
    application_id: uuid.UUID,
    case_no: str,
    status: str,
    at: datetime,
    values: dict[str, Any],
    new: Callable[[], dict[str, Any]] | None = None,
) -> bool:
    """Move the application to ``status`` reported at ``at`` (setting ``values`` when it moves, by the
    contracts' lifecycle order); False when the application is unknown.

    The usual case is one ``UPDATE``; a replayed or late event, or a case the portal never saw
    (inserted from the columns ``new`` gives), locks the row first. Either way the row is read and
    written with Core only: no ``Application`` is loaded that a later handler's ``UPDATE`` would leave stale.
    """
    progress = ProgressRepository.from_session(session)
    if await progress.advance(application_id, case_no=case_no, status=status, at=at, values=values):
        return True
    current = await progress.lock_status(application_id)
    if current is None:
        if new is None:
            # The stream is ordered and CaseRegistered comes first, so this case was never ours.
            log.warning("case event for an unknown application ignored", extra={"case_no": case_no})
            return False
        # Submitted at the event's time and moved on by it at once, as the portal's own would be.
        await progress.insert(
            new()
            | {
                "status": status,
                "status_at": at,
                "submitted_at": at,
                "case_no": case_no,
                "updated_at": utcnow(),
            }
            | values
        )
    elif supersedes(current.status, current.status_at, status, at):
        # The row moved between the two statements; locked now, the same UPDATE applies.
        await progress.advance(application_id, case_no=case_no, status=status, at=at, values=values)
    else:
        await progress.touch(application_id, case_no=case_no)
    return True


async def on_case_registered(session: AsyncSession, envelope: EventEnvelope, data: CaseRegistered) -> None:
    """办件已登记: the application has its 办件编号 and waits for acceptance."""
    missing = [m.model_dump(mode="json") for m in data.missing_materials]
    await _project(
        session,
        data.application_id,
        data.case_no,
        CaseStatus.PENDING_ACCEPTANCE,
        data.registered_at,
        {"missing_materials": missing},
        new=lambda: _new_application(
            data.application_id,
            applicant=data.applicant,
            item_code=data.item_code,
            item_name=data.item_name,
            form=data.form,
            materials=data.materials,
        ),
    )
    detail = f"办件编号：{data.case_no}"
    if data.missing_materials:
        detail += f"；尚缺材料：{_names(data.missing_materials)}"
    await TimelineRepository.from_session(session).add(
        application_id=data.application_id,
        at=data.registered_at,
        title="已登记，等待受理",
        detail=detail,
        data={"missing_materials": missing},
        source_event_id=envelope.id,
    )


async def on_case_supplement_requested(
    session: AsyncSession, envelope: EventEnvelope, data: CaseSupplementRequested
) -> None:
    """一次性告知: every missing material, in one notice."""
    missing = [m.model_dump(mode="json") for m in data.missing_materials]
    if not await _project(
        session,
        data.application_id,
        data.case_no,
        CaseStatus.AWAITING_SUPPLEMENT,
        data.issued_at,
        {"missing_materials": missing},
    ):
        return
    await TimelineRepository.from_session(session).add(
        application_id=data.application_id,
        at=data.issued_at,
        title="一次性告知：请补正材料",
        detail=data.notice_text,
        data={"notice_no": data.notice_no, "missing_materials": missing},
        source_event_id=envelope.id,
    )


async def on_case_accepted_with_materials_owed(
    session: AsyncSession, envelope: EventEnvelope, data: CaseAcceptedWithMaterialsOwed
) -> None:
    """容缺受理: 已受理 with the owed materials as the ones still to hand in (the portal shows
    已受理（容缺待补）, ADR 0119); ``case.accepted`` later clears them and brings the due date."""
    owed = [m.model_dump(mode="json") for m in data.pending_materials]
    if not await _project(
        session,
        data.application_id,
        data.case_no,
        CaseStatus.ACCEPTED,
        data.accepted_at,
        {"missing_materials": owed},
    ):
        return
    await TimelineRepository.from_session(session).add(
        application_id=data.application_id,
        at=data.accepted_at,
        title="已容缺受理：请按期补齐材料",
        detail=(
            f"受理通知书：{data.acceptance_notice_no}；请于 {data.supply_by:%Y-%m-%d} 前补齐："
            f"{_names(data.pending_materials)}。补齐之日起计算办理时限。"
        ),
        data={
            "notice_no": data.acceptance_notice_no,
            "pending_materials": owed,
            "supply_by": str(data.supply_by),
        },
        source_event_id=envelope.id,
    )


async def on_case_accepted(session: AsyncSession, envelope: EventEnvelope, data: CaseAccepted) -> None:
    """已受理: the promised clock runs."""
    await _project(
        session,
        data.application_id,
        data.case_no,
        CaseStatus.ACCEPTED,
        data.accepted_at,
        {"missing_materials": [], "due_date": data.due_date},
        new=lambda: _new_application(
            data.application_id,
            applicant=data.applicant,
            item_code=data.item_code,
            item_name=data.item_name,
            form=data.form,
            materials=data.materials,
        ),
    )
    await TimelineRepository.from_session(session).add(
        application_id=data.application_id,
        at=data.accepted_at,
        title="已受理",
        detail=f"受理通知书：{data.acceptance_notice_no}；承诺办结日期：{data.due_date.isoformat()}",
        data={"acceptance_notice_no": data.acceptance_notice_no, "due_date": data.due_date.isoformat()},
        source_event_id=envelope.id,
    )


async def on_case_rejected(session: AsyncSession, envelope: EventEnvelope, data: CaseRejected) -> None:
    """不予受理, with the reason."""
    if not await _project(
        session, data.application_id, data.case_no, CaseStatus.NOT_ACCEPTED, data.rejected_at, {}
    ):
        return
    await TimelineRepository.from_session(session).add(
        application_id=data.application_id,
        at=data.rejected_at,
        title="不予受理",
        detail=data.reason,
        data={"notice_no": data.notice_no},
        source_event_id=envelope.id,
    )


async def on_case_completed(session: AsyncSession, envelope: EventEnvelope, data: CaseCompleted) -> None:
    """已办结: the decision and, when approved, the e-licence."""
    values = {
        "outcome": data.outcome,
        "result": {
            "decision": data.decision.model_dump(mode="json"),
            "licence": data.licence.model_dump(mode="json") if data.licence else None,
        },
        "steps": [s.model_dump(mode="json") for s in data.steps],
        "on_time": data.on_time,
        "due_date": data.due_date,
    }
    if not await _project(
        session, data.application_id, data.case_no, CaseStatus.COMPLETED, data.completed_at, values
    ):
        return
    detail = f"{data.decision.title}（{data.decision.document_no}）"
    if data.licence:
        detail += f"；电子证照：{data.licence.type_name} {data.licence.licence_no}"
    await TimelineRepository.from_session(session).add(
        application_id=data.application_id,
        at=data.completed_at,
        title=f"已办结：{OUTCOME_TEXT[data.outcome]}",
        detail=detail,
        data={"on_time": data.on_time, "working_days_used": data.working_days_used},
        source_event_id=envelope.id,
    )


# --- 联办 (ADR 0121): one case for the applicant, each department's part on its timeline ------------

#: The item code management gives a joint case's own row.
JOINT_ITEM_CODE = "JOINT"
_DECIDED = ("approved", "refused")


async def on_joint_case_opened(session: AsyncSession, envelope: EventEnvelope, data: JointCaseOpened) -> None:
    """联办受理: one case (the joint 办件编号), accepted, with a part per department, all dispatched."""
    parts = [
        p.model_dump(mode="json")
        | {"status": "dispatched", "status_at": data.accepted_at.isoformat(), "note": None}
        for p in data.parts
    ]
    await _project(
        session,
        data.application_id,
        data.joint_no,
        CaseStatus.ACCEPTED,
        data.accepted_at,
        {"missing_materials": [], "due_date": data.due_date, "joint_parts": parts},
        new=lambda: _new_application(
            data.application_id,
            applicant=data.applicant,
            item_code=JOINT_ITEM_CODE,
            item_name=data.theme_name,
            form=data.form,
            materials=data.materials,
        ),
    )
    departments = "、".join(f"{p.department.name}「{p.item_name}」" for p in data.parts)
    await TimelineRepository.from_session(session).add(
        application_id=data.application_id,
        at=data.accepted_at,
        title="已受理（联办）",
        detail=(
            f"{data.window.name}一次收件，{len(data.parts)} 个部门同时办理：{departments}；"
            f"承诺办结日期：{data.due_date.isoformat()}"
        ),
        data={"due_date": data.due_date.isoformat(), "parts": [p.part_no for p in data.parts]},
        source_event_id=envelope.id,
    )


def _merge_part(
    parts: list[Any], part_no: str, status: str, at: datetime, note: str | None, due: date | None = None
) -> Literal["status", "due_date"] | None:
    """Move one stored part to ``status``, or to its new 办结期限 ``due`` alone; None when the part is
    decided, a later event moved it already, or nothing changed. Says which of the two moved."""
    for part in parts:
        if part["part_no"] != part_no:
            continue
        if part["status"] in _DECIDED or datetime.fromisoformat(part["status_at"]) > at:
            return None
        # A date is taken only when newer than the stored one, whichever kind of event set that.
        due_at = part.get("due_at")
        newer = due is not None and not (due_at and datetime.fromisoformat(due_at) > at)
        dated = {"due_date": due.isoformat(), "due_at": at.isoformat()} if newer and due else {}
        if status != part["status"] or note:
            part |= {"status": status, "status_at": at.isoformat(), "note": note} | dated
            return "status"
        # The date alone moved (the department's clock stood still).
        if not dated or dated["due_date"] == part["due_date"]:
            return None
        part |= dated
        return "due_date"
    return None


async def on_joint_part_changed(
    session: AsyncSession, envelope: EventEnvelope, data: JointPartChanged
) -> None:
    """A department's part moved, or its 办结期限 did: its state on the one case, and a line on the timeline."""
    progress = ProgressRepository.from_session(session)
    found, parts = await progress.lock_joint_parts(data.application_id)
    if not found:
        # ``joint_case.opened`` is earlier on the same stream; this one came first only on a redelivery.
        raise RetryLater(f"joint case {data.joint_no} is not in the portal yet")
    if parts is None:
        log.warning(
            "part event for a case that is not a joint case ignored", extra={"case_no": data.joint_no}
        )
        return
    changed = _merge_part(parts, data.part_no, data.status, data.changed_at, data.note, data.due_date)
    if changed is None:
        # Late or after the part's decision: the timeline shows where a part went, never back.
        return
    await progress.set_joint_parts(data.application_id, parts)
    if changed == "due_date":
        assert data.due_date is not None
        title = f"{data.department.name}：办结期限调整"
        detail = f"「{data.item_name}」：计时暂停的工作日不计入，办结期限为 {data.due_date.isoformat()}"
    else:
        title = f"{data.department.name}：{PART_STATUS_TEXT[data.status]}"
        detail = f"「{data.item_name}」" + (f"：{data.note}" if data.note else "")
    await TimelineRepository.from_session(session).add(
        application_id=data.application_id,
        at=data.changed_at,
        title=title[:100],
        detail=detail,
        data={"part_no": data.part_no, "status": data.status}
        | ({} if data.due_date is None else {"due_date": data.due_date.isoformat()}),
        source_event_id=envelope.id,
    )


async def on_joint_case_completed(
    session: AsyncSession, envelope: EventEnvelope, data: JointCaseCompleted
) -> None:
    """联办办结: every part's result and the one combined result (and notice, if any was refused)."""
    progress = ProgressRepository.from_session(session)
    application_id = data.application_id or await progress.id_of_case(data.joint_no)
    if application_id is None:
        raise RetryLater(f"joint case {data.joint_no} is not in the portal yet")
    found, parts = await progress.lock_joint_parts(application_id)
    if not found:
        raise RetryLater(f"joint case {data.joint_no} is not in the portal yet")
    if parts is not None:
        for outcome in data.parts:
            _merge_part(parts, outcome.part_no, outcome.outcome, data.completed_at, outcome.reason)
        await progress.set_joint_parts(application_id, parts)
    values: dict[str, Any] = {"outcome": data.outcome}
    if data.decision is not None:
        values["result"] = {
            "decision": data.decision.model_dump(mode="json"),
            "licence": None,
            "notice_text": data.notice_text,
        }
    if not await _project(
        session, application_id, data.joint_no, CaseStatus.COMPLETED, data.completed_at, values
    ):
        return
    lines = "；".join(f"{p.department.name}「{p.item_name}」{OUTCOME_TEXT[p.outcome]}" for p in data.parts)
    detail = f"联办结果：{lines}" + (f"\n{data.notice_text}" if data.notice_text else "")
    await TimelineRepository.from_session(session).add(
        application_id=application_id,
        at=data.completed_at,
        title=f"已办结（联办）：{OUTCOME_TEXT[data.outcome]}",
        detail=detail,
        data={"notice": bool(data.notice_text)},
        source_event_id=envelope.id,
    )


# --- 缴费与送达 (ADR 0117): lines on the applicant's timeline, nothing else of the application moves ---


async def _timeline_line(
    session: AsyncSession,
    envelope: EventEnvelope,
    *,
    application_id: uuid.UUID,
    case_no: str,
    at: datetime,
    title: str,
    detail: str,
    data: dict[str, Any],
) -> None:
    # The line belongs to the application the portal tracks for this case; an event about a case
    # it never saw (or before its registration arrived) adds nothing. The event id keeps a replay
    # from adding it twice, behind the inbox.
    if not await ProgressRepository.from_session(session).tracks(application_id, case_no=case_no):
        log.warning(
            "payment or delivery event for an unknown application ignored", extra={"case_no": case_no}
        )
        return
    await TimelineRepository.from_session(session).add(
        application_id=application_id,
        at=at,
        title=title,
        detail=detail,
        data=data,
        source_event_id=envelope.id,
    )


def _yuan(fen: int) -> str:
    return f"¥{fen // 100}.{fen % 100:02d}"


async def on_payment_order_paid(
    session: AsyncSession, envelope: EventEnvelope, data: PaymentOrderPaid
) -> None:
    """缴费成功, with the receipt number."""
    await _timeline_line(
        session,
        envelope,
        application_id=data.application_id,
        case_no=data.case_no,
        at=data.paid_at,
        title="缴费成功",
        detail=f"已缴 {_yuan(data.amount_fen)}；电子票据号：{data.receipt_no}",
        data={"order_no": data.order_no, "receipt_no": data.receipt_no, "amount_fen": data.amount_fen},
    )


async def on_delivery_dispatched(
    session: AsyncSession, envelope: EventEnvelope, data: DeliveryDispatched
) -> None:
    """已寄出. The tracking number is in the detail, which only the applicant sees: the public
    progress lookup by 办件编号 shows titles only, and a tracking number opens the courier's record."""
    await _timeline_line(
        session,
        envelope,
        application_id=data.application_id,
        case_no=data.case_no,
        at=data.dispatched_at,
        title="已寄出",
        detail=f"已寄出（运单号 {data.tracking_no}）；承运方：{data.courier_name}",
        data={"courier": data.courier, "tracking_no": data.tracking_no},
    )


TRACKING_TITLES = {"in_transit": "物流更新：运输中", "out_for_delivery": "物流更新：派送中"}


async def on_delivery_tracking_updated(
    session: AsyncSession, envelope: EventEnvelope, data: DeliveryTrackingUpdated
) -> None:
    """A courier scan of the posted result."""
    await _timeline_line(
        session,
        envelope,
        application_id=data.application_id,
        case_no=data.case_no,
        at=data.at,
        title=TRACKING_TITLES[data.kind],
        detail=data.description,
        data={"kind": data.kind, "tracking_no": data.tracking_no},
    )


async def on_delivery_completed(
    session: AsyncSession, envelope: EventEnvelope, data: DeliveryCompleted
) -> None:
    """已送达 (signed for) or 已领取 (collected at the window)."""
    if data.kind == "picked_up":
        title, detail = "已领取", "办理结果已在窗口领取"
    else:
        title, detail = "已送达", f"邮件已签收（运单号 {data.tracking_no}）"
    await _timeline_line(
        session,
        envelope,
        application_id=data.application_id,
        case_no=data.case_no,
        at=data.delivered_at,
        title=title,
        detail=detail,
        data={"kind": data.kind, "on_time": data.on_time, "tracking_no": data.tracking_no},
    )


def supplemented_event(
    app: Application, refs: list[MaterialRef], *, at: datetime, source: str, agent: Agent | None = None
) -> EventEnvelope:
    """材料已补正, about and correlated by the 办件编号."""
    assert app.case_no is not None
    data = ApplicationSupplemented(
        application_id=app.id,
        case_no=app.case_no,
        applicant_id=app.applicant_id,
        materials=refs,
        supplemented_at=at,
        agent=agent,
    )
    return make_event(data, source=source, subject=app.case_no, correlation_id=app.case_no)
