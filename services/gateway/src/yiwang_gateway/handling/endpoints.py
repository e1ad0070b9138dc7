"""Routes: ``POST /cases/{case_no}/correction`` (补正) and ``POST /cases/{case_no}/withdraw`` (撤回).

The applicant's own: the portal checks the case is theirs and in handling, then forwards the
caller's own token to business, which enforces the rules (a correction only after 退回补正, a
withdrawal only before the decision) and whose refusals come back as 409/422 problem+json.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from yiwang_common.http import Forbidden, Unauthorized, problem_responses
from yiwang_gateway.account.agents import Acting, acting_applicant
from yiwang_gateway.account.errors import AgentAuthorisationExpired, AgentBeyondAuthority, NotAuthorisedAgent
from yiwang_gateway.application.errors import FormInvalid
from yiwang_gateway.catalogue.errors import ItemNotFound
from yiwang_gateway.dependencies import GUARDS, SessionDep
from yiwang_gateway.handling.client import BusinessClient
from yiwang_gateway.handling.errors import (
    BusinessUnavailable,
    CaseNotInHandling,
    HandlingInvalid,
    HandlingRefused,
)
from yiwang_gateway.handling.schemas import CorrectionCreate, HandlingReceipt, WithdrawCreate
from yiwang_gateway.handling.service import handling_service
from yiwang_gateway.progress.errors import CaseNotFound

router = APIRouter(prefix="/cases", tags=["progress"], dependencies=GUARDS)
CaseNo = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z]+$", description="办件编号")]
_AGENT = (NotAuthorisedAgent, AgentAuthorisationExpired, AgentBeyondAuthority)


def _token(request: Request) -> str:
    return request.headers["authorization"].partition(" ")[2]


def _client(request: Request) -> BusinessClient:
    client: BusinessClient = request.app.state.business
    return client


@router.post(
    "/{case_no}/correction",
    summary="补正 Correct a case returned for correction",
    response_model=HandlingReceipt,
    responses=problem_responses(
        Unauthorized,
        Forbidden,
        *_AGENT,
        CaseNotFound,
        CaseNotInHandling,
        HandlingRefused,
        HandlingInvalid,
        FormInvalid,
        ItemNotFound,
        BusinessUnavailable,
    ),
)
async def correct_case(
    case_no: CaseNo,
    body: CorrectionCreate,
    request: Request,
    acting: Annotated[Acting, acting_applicant("supplement")],
    session: SessionDep,
) -> HandlingReceipt:
    """补正 after 退回补正: the changed fields (checked with the item's form schema) and a note; the clock runs again."""
    return await handling_service.correct(
        session,
        principal=acting.principal,
        case_no=case_no,
        body=body,
        client=_client(request),
        token=_token(request),
    )


@router.post(
    "/{case_no}/withdraw",
    summary="撤回 Withdraw my application before the decision",
    response_model=HandlingReceipt,
    responses=problem_responses(
        Unauthorized,
        Forbidden,
        *_AGENT,
        CaseNotFound,
        CaseNotInHandling,
        HandlingRefused,
        BusinessUnavailable,
    ),
)
async def withdraw_case(
    case_no: CaseNo,
    body: WithdrawCreate,
    request: Request,
    acting: Annotated[Acting, acting_applicant("withdraw")],
    session: SessionDep,
) -> HandlingReceipt:
    """撤回 before the decision: every open step closes and the case ends; a decided case is refused (409)."""
    return await handling_service.withdraw(
        session,
        principal=acting.principal,
        case_no=case_no,
        body=body,
        client=_client(request),
        token=_token(request),
    )
