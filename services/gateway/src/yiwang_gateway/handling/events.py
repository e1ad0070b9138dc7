"""Business's handling events on the applicant's timeline (办理时间线): each step, 退回, 计时暂停/恢复, 撤回.

Entries carry the event id, so a replay adds nothing; events about an application the portal does
not hold are ignored (the case was registered elsewhere and the registration has not arrived): the
lines are written with ``add_if_held``, whose batched statement at commit checks it, so the step
events (one per step of every case) need no query of their own.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.contracts.business import (
    CaseClockPaused,
    CaseClockResumed,
    CaseReturned,
    CaseStepCompleted,
    CaseWithdrawn,
)
from yiwang_common.events import EventEnvelope, Subscription
from yiwang_gateway.application.repository import TimelineRepository
from yiwang_gateway.handling.repository import HandlingRepository

_ACTION = {"pass": "通过", "return": "退回", "other": "办理"}


async def on_step_completed(session: AsyncSession, envelope: EventEnvelope, data: CaseStepCompleted) -> None:
    """环节已办理: the step, who and where, and what comes next (if the portal holds the application)."""
    detail = f"{data.step.org.name}：{_ACTION[data.step.action]}"
    if data.next_step_name:
        detail += f"；下一环节：{data.next_step_name}"
    await TimelineRepository.from_session(session).add_if_held(
        application_id=data.application_id,
        at=data.step.ended_at,
        title=f"环节已办理：{data.step.step_name}",
        detail=detail,
        data={
            "step_key": data.step.step_key,
            "next_step_due_date": str(data.next_step_due_date or "") or None,
        },
        source_event_id=envelope.id,
    )


async def on_returned(session: AsyncSession, envelope: EventEnvelope, data: CaseReturned) -> None:
    """已退回: to the applicant it is a request for correction (补正), with the reason."""
    handling = HandlingRepository.from_session(session)
    if data.to_applicant:
        title = "退回补正：请按要求补正"
        if not await handling.set_clock(data.application_id, "with_applicant"):
            return
    elif not await handling.exists(data.application_id):
        return
    else:
        title = f"内部退回：{data.from_step_name} → {data.to_step_name}"
    await TimelineRepository.from_session(session).add_if_held(
        application_id=data.application_id,
        at=envelope.time,
        title=title,
        detail=data.reason,
        data={"to_applicant": data.to_applicant},
        source_event_id=envelope.id,
    )


async def on_clock_paused(session: AsyncSession, envelope: EventEnvelope, data: CaseClockPaused) -> None:
    """计时暂停: 挂起 or a 特殊程序 (补正 is told by the return itself)."""
    held = await HandlingRepository.from_session(session).set_clock(data.application_id, data.kind)
    if not held or data.kind == "with_applicant":
        return
    await TimelineRepository.from_session(session).add_if_held(
        application_id=data.application_id,
        at=data.paused_at,
        title=f"计时暂停：{data.kind_name}",
        detail=data.reason,
        data={"kind": data.kind},
        source_event_id=envelope.id,
    )


async def on_clock_resumed(session: AsyncSession, envelope: EventEnvelope, data: CaseClockResumed) -> None:
    """计时恢复 (or 补正 received): the new promised date."""
    if not await HandlingRepository.from_session(session).set_clock(
        data.application_id, None, due_date=data.due_date
    ):
        return
    title = "已补正，恢复办理" if data.kind == "with_applicant" else "恢复计时"
    await TimelineRepository.from_session(session).add_if_held(
        application_id=data.application_id,
        at=data.resumed_at,
        title=title,
        detail=f"{data.reason}；暂停 {data.paused_working_days} 个工作日，承诺办结日期：{data.due_date.isoformat()}",
        data={"kind": data.kind, "due_date": data.due_date.isoformat()},
        source_event_id=envelope.id,
    )


async def on_withdrawn(session: AsyncSession, envelope: EventEnvelope, data: CaseWithdrawn) -> None:
    """已撤回 by the applicant."""
    if not await HandlingRepository.from_session(session).withdrawn(data.application_id, data.withdrawn_at):
        return
    await TimelineRepository.from_session(session).add_if_held(
        application_id=data.application_id,
        at=data.withdrawn_at,
        title="已撤回申请",
        detail=data.reason,
        source_event_id=envelope.id,
    )


#: business's stream: the applicant sees its handling on the timeline (ADR 0115).
BUSINESS_SUBSCRIPTION = Subscription(
    durable="gateway__business",
    source="business",
    handlers={
        CaseStepCompleted: on_step_completed,
        CaseReturned: on_returned,
        CaseClockPaused: on_clock_paused,
        CaseClockResumed: on_clock_resumed,
        CaseWithdrawn: on_withdrawn,
    },
)
