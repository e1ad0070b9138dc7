"""Rules of the audit log: append what the services report, show supervisors their region's."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.access import region_of, region_prefix
from yiwang_common.audit import audit_fields
from yiwang_common.auth import Principal
from yiwang_common.contracts.common import AuditFields
from yiwang_common.db import utcnow
from yiwang_common.http import Forbidden
from yiwang_common.http.pagination import ListResource, PageParams
from yiwang_datasharing.audit.repository import AuditRepository
from yiwang_datasharing.audit.schemas import AuditEntryView


async def append(session: AsyncSession, *, event_id: uuid.UUID, service: str, fields: AuditFields) -> bool:
    """Keep one audit record; a replayed event (same id) keeps nothing more."""
    values = {
        **fields.model_dump(mode="python"),
        "event_id": event_id,
        "service": service,
        "recorded_at": utcnow(),
    }
    return await AuditRepository.from_session(session).append(values)


async def record_read(
    session: AsyncSession,
    *,
    principal: Principal,
    target_type: str,
    target_id: str,
    region_code: str,
    reason: str | None,
) -> None:
    """Data-sharing's own read of personal data, recorded in the same unit of work as the read."""
    fields = audit_fields(
        action="personal_data_read",
        actor=principal,
        region_code=region_code,
        target_type=target_type,
        target_id=target_id,
        reason=reason,
    )
    await append(session, event_id=uuid.uuid4(), service="datasharing", fields=fields)


async def search(
    session: AsyncSession,
    principal: Principal,
    *,
    action: str | None,
    actor_id: str | None,
    target_type: str | None,
    target_id: str | None,
    since: datetime | None,
    until: datetime | None,
    page: PageParams,
) -> ListResource[AuditEntryView]:
    """One page of the audit log of the supervisor's region, newest first."""
    region = region_of(principal)
    if region is None:
        raise Forbidden("登录凭证未载明所属行政区划，无法查询审计日志")
    rows, total = await AuditRepository.from_session(session).search(
        region_prefix=region_prefix(region),
        action=action,
        actor_id=actor_id,
        target_type=target_type,
        target_id=target_id,
        since=since,
        until=until,
        page=page.page,
        limit=page.limit,
    )
    return page.wrap([AuditEntryView.model_validate(r) for r in rows], total)
