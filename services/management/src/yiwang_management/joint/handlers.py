"""Incoming events of joint approval: the built-in workflow's steps, 补正 and decisions on a part.

The inbox deduplicates per event id across a service's consumers, so the parts' events are
taken inside the existing ``management__business`` consumer: :func:`route_parts` puts a router
in front of the case handlers that sends part numbers here and everything else on.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.calendar import WorkingDayCalendar
from yiwang_common.contracts.business import (
    CaseClockPaused,
    CaseClockResumed,
    CaseDecided,
    CaseStepCompleted,
)
from yiwang_common.events import EventData, EventEnvelope, Handler, Subscription
from yiwang_management.joint import service
from yiwang_management.joint.repository import JointRepository


class JointEventHandlers:
    """Business events about parts of joint cases."""

    def __init__(self, *, source: str, calendar: WorkingDayCalendar) -> None:
        self.source = source
        self.calendar = calendar

    async def on_step_completed(
        self, session: AsyncSession, _envelope: EventEnvelope, data: CaseStepCompleted
    ) -> None:
        """环节已办理 on a part → the joint case's timeline."""
        part = await JointRepository.from_session(session).part(data.case_no)
        if part is not None:
            await service.record_part_step(session, part, data.step, source=self.source)

    async def on_case_decided(
        self, session: AsyncSession, _envelope: EventEnvelope, data: CaseDecided
    ) -> None:
        """已作出决定 on a part → its steps (replays skipped), its result, and the combined one when it is the last."""
        part = await JointRepository.from_session(session).part(data.case_no)
        if part is None:
            return
        for step in data.steps:
            await service.record_part_step(session, part, step, source=self.source)
        await service.decide_part(
            session,
            data.case_no,
            outcome=data.outcome,
            reason=data.decision.body if data.outcome == "refused" else None,
            decision=data.decision,
            licence=data.licence,
            source=self.source,
        )

    async def on_clock_paused(
        self, session: AsyncSession, _envelope: EventEnvelope, data: CaseClockPaused
    ) -> None:
        """business stopped a built-in part's clock: its step clock here stands still too (ADR 0127);
        a 退回补正 (its clock with the applicant) also shows the part 待补正."""
        part, moved = await service.part_clock_paused(
            session, data.case_no, kind=data.kind, at=data.paused_at, calendar=self.calendar
        )
        if part is None:
            return
        # A 退回补正 whose correction arrived first is over: the part does not go back to 待补正.
        told = (
            data.kind == "with_applicant"
            and not service.pause_ended(part, data.paused_at)
            and await service.builtin_supplement_requested(
                session, part, reason=data.reason, at=data.paused_at, source=self.source
            )
        )
        if moved and not told:
            await service.part_due_moved(session, part, source=self.source)

    async def on_clock_resumed(
        self, session: AsyncSession, _envelope: EventEnvelope, data: CaseClockResumed
    ) -> None:
        """business runs a built-in part's clock again: the step clock runs, its due date moved by the
        working days paused; after the applicant's 补正 the part is 办理中 again."""
        part, moved = await service.part_clock_resumed(
            session, data.case_no, kind=data.kind, at=data.resumed_at, calendar=self.calendar
        )
        if part is None:
            return
        # The part's own change carries the new date; a date that moved alone is told by itself.
        told = data.kind == "with_applicant" and await service.builtin_supplement_handed_in(
            session, part, note=data.reason, at=data.resumed_at, source=self.source
        )
        if moved and not told:
            await service.part_due_moved(session, part, source=self.source)

    def route_parts(self, subscriptions: list[Subscription]) -> list[Subscription]:
        """The same subscriptions, with step and decision events of parts handled here."""
        mine: dict[type[EventData], Handler] = {
            CaseStepCompleted: self.on_step_completed,
            CaseDecided: self.on_case_decided,
            CaseClockPaused: self.on_clock_paused,
            CaseClockResumed: self.on_clock_resumed,
        }
        out = []
        for sub in subscriptions:
            if sub.source != "business":
                out.append(sub)
                continue
            handlers = dict(sub.handlers)
            for model, joint_handler in mine.items():
                # Events only parts need (the 补正 of a built-in part) pass other cases by.
                handlers[model] = _router(joint_handler, handlers.get(model, _ignore))
            out.append(Subscription(durable=sub.durable, source=sub.source, handlers=handlers))
        return out


async def _ignore(_session: AsyncSession, _envelope: EventEnvelope, _data: EventData) -> None:
    return None


def _router(joint: Handler, other: Handler) -> Handler:
    async def route(session: AsyncSession, envelope: EventEnvelope, data: EventData) -> None:
        case_no = getattr(data, "case_no", "")
        await (joint if service.is_part_no(case_no) else other)(session, envelope, data)

    return route
