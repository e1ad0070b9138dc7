"""Incoming events of the staff domain: management's ``StaffAssigned``."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.contracts.management import StaffAssigned
from yiwang_common.events import EventEnvelope
from yiwang_gateway.staff import service


async def on_staff_assigned(session: AsyncSession, envelope: EventEnvelope, data: StaffAssigned) -> None:
    """工作人员岗位已变更 → the staff account's roles, unit and region."""
    await service.apply_assignment(session, data)
