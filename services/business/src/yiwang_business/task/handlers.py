"""Incoming events of the task domain: management's accepted cases."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_business.task.service import task_service
from yiwang_common.contracts.management import CaseAccepted
from yiwang_common.events import EventEnvelope, Subscription


async def on_case_accepted(session: AsyncSession, envelope: EventEnvelope, data: CaseAccepted) -> None:
    """已受理 → take the case over and open its first task (ignored if the case is already here)."""
    await task_service.take_over(session, accepted=data)


management_subscription = Subscription(
    durable="business__management", source="management", handlers={CaseAccepted: on_case_accepted}
)
