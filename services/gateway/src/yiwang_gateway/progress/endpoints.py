"""Routes: ``GET /cases/{case_no}`` and ``POST /cases/{case_no}/supplements`` (owner only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from yiwang_common.auth import CurrentPrincipal
from yiwang_common.http import Forbidden, Unauthorized, problem_responses
from yiwang_gateway.account.agents import Acting, acting_applicant, agent_service
from yiwang_gateway.account.errors import AgentAuthorisationExpired, AgentBeyondAuthority, NotAuthorisedAgent
from yiwang_gateway.catalogue.errors import ItemNotFound
from yiwang_gateway.dependencies import GUARDS, SessionDep
from yiwang_gateway.material.errors import (
    MaterialNotUploaded,
    MaterialTooLarge,
    MaterialTypeNotAllowed,
    MaterialUnknown,
)
from yiwang_gateway.progress.errors import CaseNotAwaitingSupplement, CaseNotFound, MaterialNotRequested
from yiwang_gateway.progress.schemas import CaseView, SupplementCreate, SupplementReceipt
from yiwang_gateway.progress.service import progress_service

router = APIRouter(prefix="/cases", tags=["progress"], dependencies=GUARDS)

CaseNo = Annotated[str, Path(min_length=1, max_length=32, description="办件编号")]


@router.get(
    "/{case_no}",
    summary="办件进度查询 Track my case",
    response_model=CaseView,
    responses=problem_responses(
        Unauthorized, CaseNotFound, NotAuthorisedAgent, AgentAuthorisationExpired, AgentBeyondAuthority
    ),
)
async def get_case(case_no: CaseNo, principal: CurrentPrincipal, session: SessionDep) -> CaseView:
    """Return the case's status, timeline and result; only its applicant (or their agent) may see it."""
    if principal.acting_for is not None:
        # An agent sees the company's cases only with the view authority (查看).
        principal = (await agent_service.acting(session, principal=principal, action="view")).principal
    return await progress_service.view(session, principal=principal, case_no=case_no)


@router.post(
    "/{case_no}/supplements",
    summary="补正材料 Supplement materials",
    status_code=202,
    response_model=SupplementReceipt,
    responses=problem_responses(
        Unauthorized,
        Forbidden,
        NotAuthorisedAgent,
        AgentAuthorisationExpired,
        AgentBeyondAuthority,
        CaseNotFound,
        CaseNotAwaitingSupplement,
        MaterialNotRequested,
        ItemNotFound,
        MaterialUnknown,
        MaterialNotUploaded,
        MaterialTypeNotAllowed,
        MaterialTooLarge,
    ),
)
async def supplement_case(
    case_no: CaseNo,
    body: SupplementCreate,
    request: Request,
    acting: Annotated[Acting, acting_applicant("supplement")],
    session: SessionDep,
) -> SupplementReceipt:
    """Hand in the materials a one-time notice asked for (an agent needs the 补正 authority)."""
    return await progress_service.supplement(
        session,
        principal=acting.principal,
        case_no=case_no,
        body=body,
        source=request.app.state.runtime.source,
        acting=acting,
    )
