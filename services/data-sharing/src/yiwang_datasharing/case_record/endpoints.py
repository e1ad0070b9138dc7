"""REST endpoints of the case library: ``/cases``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import CurrentPrincipal
from yiwang_common.db import get_session
from yiwang_common.http.problems import Unauthorized, problem_responses
from yiwang_datasharing.case_record.errors import CaseRecordNotFound
from yiwang_datasharing.case_record.schemas import CaseNoPath, CaseRecordSchema
from yiwang_datasharing.case_record.service import case_record_service

router = APIRouter(prefix="/cases", tags=["cases"])

Session = Annotated[AsyncSession, Depends(get_session, scope="function")]


@router.get(
    "/{case_no}",
    summary="办件信息 Case record",
    response_model=CaseRecordSchema,
    responses=problem_responses(Unauthorized, CaseRecordNotFound),
)
async def get_case_record(
    case_no: CaseNoPath, principal: CurrentPrincipal, session: Session
) -> CaseRecordSchema:
    """Return a case's record and its process steps in time order, to staff or the applicant."""
    return await case_record_service.get_visible(session, case_no=case_no, principal=principal)
