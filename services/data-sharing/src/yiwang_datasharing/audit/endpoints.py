"""REST surface of the audit log: ``/audit-entries`` for supervisors (电子监察), by region."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import ROLE_SUPERVISOR, Principal, require_role
from yiwang_common.db import get_session
from yiwang_common.http import Forbidden, Unauthorized, problem_responses
from yiwang_common.http.pagination import ListResource, PageQuery
from yiwang_datasharing.audit import service
from yiwang_datasharing.audit.schemas import AuditEntryView

router = APIRouter(prefix="/audit-entries", tags=["audit"])
#: Data scope for the authorisation matrix (docs/authorization-matrix.md, ADR 0105).
REGION_SCOPE: dict[str, Any] = {"x-access-scope": "region"}

Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
Supervisor = Annotated[Principal, require_role(ROLE_SUPERVISOR)]
WORD = r"^[0-9A-Za-z_:-]{1,64}$"


@router.get(
    "",
    openapi_extra=REGION_SCOPE,
    summary="审计日志 Audit log",
    response_model=ListResource[AuditEntryView],
    responses=problem_responses(Unauthorized, Forbidden),
)
async def list_audit_entries(
    session: Session,
    principal: Supervisor,
    page: PageQuery,
    action: Annotated[
        str | None,
        Query(pattern=WORD, description="sign_in / sign_in_failed / permission_changed / personal_data_read"),
    ] = None,
    actor_id: Annotated[str | None, Query(pattern=WORD, description="操作人 account id")] = None,
    target_type: Annotated[
        str | None, Query(pattern=WORD, description="对象类型: case / staff_member / …")
    ] = None,
    target_id: Annotated[str | None, Query(max_length=200, description="对象标识")] = None,
    since: Annotated[datetime | None, Query(description="起始时间 (含)")] = None,
    until: Annotated[datetime | None, Query(description="截止时间 (不含)")] = None,
) -> ListResource[AuditEntryView]:
    """本辖区审计记录 The audit log of the supervisor's region, newest first."""
    return await service.search(
        session,
        principal,
        action=action,
        actor_id=actor_id,
        target_type=target_type,
        target_id=target_id,
        since=since,
        until=until,
        page=page,
    )
