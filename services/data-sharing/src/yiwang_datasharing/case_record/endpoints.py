"""REST endpoints of the case library: ``/cases``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.access import AccessReason, ReasonRequired
from yiwang_common.auth import CurrentPrincipal
from yiwang_common.contracts.lifecycle import CaseStatus
from yiwang_common.db import get_session
from yiwang_common.http.pagination import ListResource, PageQuery
from yiwang_common.http.problems import Unauthorized, problem_responses
from yiwang_datasharing.case_record.errors import CaseRecordNotFound
from yiwang_datasharing.case_record.schemas import CaseNoPath, CaseRecordSchema, CaseSummarySchema
from yiwang_datasharing.case_record.service import case_record_service

router = APIRouter(prefix="/cases", tags=["cases"])

Session = Annotated[AsyncSession, Depends(get_session, scope="function")]


@router.get(
    "",
    summary="办件列表 Case records",
    response_model=ListResource[CaseSummarySchema],
    responses=problem_responses(Unauthorized, ReasonRequired),
)
async def list_case_records(
    principal: CurrentPrincipal,
    session: Session,
    page: PageQuery,
    reason: AccessReason,
    status: Annotated[CaseStatus | None, Query(description="办件状态")] = None,
) -> ListResource[CaseSummarySchema]:
    """List the records the caller may read: their own cases, or their unit's (and region's) items."""
    return await case_record_service.list_visible(
        session, principal=principal, status=status, page=page, reason=reason
    )


@router.get(
    "/{case_no}",
    summary="办件信息 Case record",
    response_model=CaseRecordSchema,
    responses=problem_responses(Unauthorized, ReasonRequired, CaseRecordNotFound),
)
async def get_case_record(
    case_no: CaseNoPath, principal: CurrentPrincipal, session: Session, reason: AccessReason
) -> CaseRecordSchema:
    """Return a case's record and its steps to the applicant or to staff of the item's unit or region."""
    return await case_record_service.get_visible(session, case_no=case_no, principal=principal, reason=reason)
