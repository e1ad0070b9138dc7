"""Incoming events of the task domain: management's accepted and deemed-approved cases."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_business.task.service import task_service
from yiwang_common.contracts.management import CaseAccepted, CaseDeemedApproved
from yiwang_common.events import EventEnvelope, Subscription


async def on_case_accepted(session: AsyncSession, envelope: EventEnvelope, data: CaseAccepted) -> None:
    """已受理 → take the case over and open its first task (ignored if the case is already here)."""
    await task_service.take_over(session, accepted=data)


async def on_case_deemed_approved(
    session: AsyncSession, envelope: EventEnvelope, data: CaseDeemedApproved
) -> None:
    """承诺超时默认 → close the case's open tasks as approved (a redelivery finds it decided)."""
    await task_service.close_deemed_approved(session, deemed=data)


management_subscription = Subscription(
    durable="business__management",
    source="management",
    handlers={CaseAccepted: on_case_accepted, CaseDeemedApproved: on_case_deemed_approved},
)
