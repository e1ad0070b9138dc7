"""Incoming audit events of every service (``yiwang.<service>.audit.recorded.v1``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.contracts.common import AuditFields
from yiwang_common.events import EventEnvelope
from yiwang_datasharing.audit import service


async def on_audit_recorded(session: AsyncSession, envelope: EventEnvelope, data: AuditFields) -> None:
    """审计事件 → one append-only row (the producer is the subject's service part)."""
    await service.append(
        session, event_id=envelope.id, service=envelope.nats_subject.split(".")[1], fields=data
    )
