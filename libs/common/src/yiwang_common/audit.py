"""Emit an audit event (审计事件) from any service: one call, inside the caller's unit of work.

The audit log lives in data-sharing (``yiwang_datasharing.audit``, append-only). Every other
service reports through its outbox, so an audit record is published if and only if the change
or read it records committed (a failed sign-in commits its own unit of work for the same
reason). ADR 0105.

    await record_audit(
        session, messaging.outbox, source=runtime.source,
        action=PERSONAL_DATA_READ, actor=principal, region_code=region,
        target_type="case", target_id=case_no, reason=reason,
    )
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import Principal
from yiwang_common.contracts import business, gateway, management
from yiwang_common.contracts.common import AuditFields
from yiwang_common.db import utcnow
from yiwang_common.events import enqueue, make_event
from yiwang_common.events.envelope import EventData

#: The actions the audit log knows; a producer may add others (``^[a-z][a-z_]+$``).
SIGN_IN = "sign_in"
SIGN_IN_FAILED = "sign_in_failed"
PERMISSION_CHANGED = "permission_changed"
PERSONAL_DATA_READ = "personal_data_read"

_CONTRACTS: dict[str, type[EventData]] = {
    "gateway": gateway.AuditRecorded,
    "management": management.AuditRecorded,
    "business": business.AuditRecorded,
}


def audit_fields(
    *,
    action: str,
    region_code: str,
    target_type: str,
    target_id: str,
    actor: Principal | None = None,
    actor_name: str = "",
    outcome: str = "success",
    reason: str | None = None,
    detail: dict[str, str | int | bool | None | list[str]] | None = None,
    occurred_at: datetime | None = None,
) -> AuditFields:
    """Build the who / what / when / why of one audit record (validated)."""
    return AuditFields.model_validate(
        {
            "action": action,
            "outcome": outcome,
            "actor_id": actor.sub if actor else None,
            "actor_name": actor.name if actor else actor_name,
            "actor_kind": actor.kind if actor else None,
            "actor_org_code": actor.org_code if actor else None,
            "actor_roles": sorted(actor.roles) if actor else [],
            "region_code": region_code,
            "target_type": target_type,
            "target_id": target_id,
            "reason": reason,
            "detail": detail or {},
            "occurred_at": occurred_at or utcnow(),
        }
    )


async def record_audit(
    session: AsyncSession,
    outbox: Table,
    *,
    source: str,
    action: str,
    region_code: str,
    target_type: str,
    target_id: str,
    actor: Principal | None = None,
    actor_name: str = "",
    outcome: str = "success",
    reason: str | None = None,
    detail: dict[str, str | int | bool | None | list[str]] | None = None,
) -> None:
    """Enqueue one audit event in the caller's unit of work.

    Args:
        session: the unit of work whose commit the record belongs to.
        outbox: the producing service's outbox table.
        source: the producer's CloudEvents source (``urn:yiwang:<region>:<service>``); its last
            part picks the contract.
        action: ``sign_in``, ``sign_in_failed``, ``permission_changed``, ``personal_data_read`` …
        region_code: the region the record belongs to (the supervisors who may read it).
        target_type: what was read or changed (``case``, ``staff_member``, ``account`` …).
        target_id: its key.
        actor: the verified caller; omit for a failed sign-in and give ``actor_name``.
        actor_name: the name typed at a failed sign-in (never the password).
        outcome: ``success``, ``failure`` or ``denied``.
        reason: why (查阅事由), when one was given.
        detail: further facts; never personal data in clear.

    Raises:
        ValueError: for a producer that has no audit contract.
    """
    service = source.rsplit(":", 1)[-1]
    contract = _CONTRACTS.get(service)
    if contract is None:
        raise ValueError(f"no audit contract for producer {service!r}")
    fields = audit_fields(
        action=action,
        region_code=region_code,
        target_type=target_type,
        target_id=target_id,
        actor=actor,
        actor_name=actor_name,
        outcome=outcome,
        reason=reason,
        detail=detail,
    )
    data = contract.model_validate(fields.model_dump())
    await enqueue(session, outbox, make_event(data, source=source, subject=f"{target_type}:{target_id}"))
