"""Routes: ``GET /cases/{case_no}`` and ``POST /cases/{case_no}/supplements`` (owner only)."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from yiwang_common.auth import CurrentPrincipal
from yiwang_common.http import Forbidden, Unauthorized, problem_responses
from yiwang_gateway.account.agents import Acting, acting_applicant, agent_service
from yiwang_gateway.account.errors import AgentAuthorisationExpired, AgentBeyondAuthority, NotAuthorisedAgent
from yiwang_gateway.account.throttle import client_address
from yiwang_gateway.application.errors import FormInvalid
from yiwang_gateway.catalogue.errors import ItemNotFound
from yiwang_gateway.dependencies import GUARDS, SessionDep, SnapshotSessionDep
from yiwang_gateway.licence.errors import VerificationThrottled
from yiwang_gateway.licence.throttle import SlidingWindow
from yiwang_gateway.material.errors import (
    MaterialNotUploaded,
    MaterialTooLarge,
    MaterialTypeNotAllowed,
    MaterialUnknown,
)
from yiwang_gateway.progress.errors import (
    CaseNotAwaitingSupplement,
    CaseNotFound,
    JointPartNotAwaitingSupplement,
    JointPartNotFound,
    JointSupplementRefused,
    MaterialNotRequested,
)
from yiwang_gateway.progress.schemas import (
    CaseView,
    JointPartSupplementCreate,
    JointPartSupplementReceipt,
    SupplementCreate,
    SupplementReceipt,
)
from yiwang_gateway.progress.service import progress_service
from yiwang_gateway.web.guides import GuideClient, ManagementBadGateway, ManagementUnavailable, NoticeNotFound
from yiwang_gateway.web.rendering import PageRoute, render

router = APIRouter(prefix="/cases", tags=["progress"], dependencies=GUARDS)
pages_router = APIRouter(tags=["pages"], dependencies=GUARDS, route_class=PageRoute, include_in_schema=False)
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

CaseNo = Annotated[str, Path(min_length=1, max_length=32, description="办件编号")]
NoticeKind = Literal["acceptance", "supplement", "rejection", "joint"]
NOTICE_KINDS = (
    "acceptance 受理通知书 / supplement 一次性告知书 / rejection 不予受理通知书 / "
    "joint 联办结果告知书 (a joint case's combined result, with its 不予许可告知)"
)
NOTICE_PDF: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        "description": "通知书 PDF (受理通知书 / 一次性告知书 / 不予受理通知书 / 联办结果告知书), rendered by management",
    }
}


@router.get(
    "/{case_no}",
    summary="办件进度查询 Track my case",
    response_model=CaseView,
    responses=problem_responses(
        Unauthorized, CaseNotFound, NotAuthorisedAgent, AgentAuthorisationExpired, AgentBeyondAuthority
    ),
)
async def get_case(case_no: CaseNo, principal: CurrentPrincipal, session: SnapshotSessionDep) -> CaseView:
    """Return the case's status, timeline and result; only its applicant (or their agent) may see it."""
    if principal.acting_for is not None:
        # An agent sees the company's cases only with the view authority (查看).
        principal = (await agent_service.acting(session, principal=principal, action="view")).principal
    return await progress_service.view(session, principal=principal, case_no=case_no)


@router.post(
    "/{case_no}/supplements",
    summary="补正材料 / 补齐容缺材料 Supplement materials",
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
    """Hand in the materials a one-time notice asked for, or those a 容缺受理 left owed (an accepted
    case shown 已受理（容缺待补）; management records their arrival and the clock starts with the last,
    ADR 0119). An agent needs the 补正 authority."""
    return await progress_service.supplement(
        session,
        principal=acting.principal,
        case_no=case_no,
        body=body,
        source=request.app.state.runtime.source,
        acting=acting,
    )


PartNo = Annotated[str, Path(pattern=r"^[0-9A-Za-z]{21}P[0-9]{2}$", description="联办分件编号")]


@router.post(
    "/{case_no}/parts/{part_no}/supplements",
    summary="联办分件补正 Hand in a department's 补正 of my joint case",
    status_code=202,
    response_model=JointPartSupplementReceipt,
    responses=problem_responses(
        Unauthorized,
        Forbidden,
        NotAuthorisedAgent,
        AgentAuthorisationExpired,
        AgentBeyondAuthority,
        CaseNotFound,
        JointPartNotFound,
        JointPartNotAwaitingSupplement,
        JointSupplementRefused,
        FormInvalid,
        ItemNotFound,
        MaterialUnknown,
        MaterialNotUploaded,
        MaterialTypeNotAllowed,
        MaterialTooLarge,
        ManagementBadGateway,
        ManagementUnavailable,
    ),
)
async def supplement_joint_part(
    case_no: CaseNo,
    part_no: PartNo,
    body: JointPartSupplementCreate,
    request: Request,
    acting: Annotated[Acting, acting_applicant("supplement")],
    session: SessionDep,
) -> JointPartSupplementReceipt:
    """补正 for the part of my joint case (联办件) whose department asked for one (shown 待补正):
    materials uploaded or reused from my 材料库, corrected fields and a note go to that department
    only (a built-in department's task goes on and its clock runs again; an external system gets
    the part again). Not my case: 404; the part not 待补正 (already supplied, decided): 409. An
    agent needs the 补正 authority (ADR 0127)."""
    return await progress_service.supplement_joint_part(
        session,
        acting=acting,
        joint_no=case_no,
        part_no=part_no,
        body=body,
        guides=request.app.state.guides,
        authorization=request.headers["authorization"],
    )


@pages_router.get("/progress/{case_no}", response_class=HTMLResponse)
async def public_progress_page(
    request: Request,
    session: SnapshotSessionDep,
    case_no: Annotated[str, Path(pattern=r"^[0-9A-Z]{21}$", description="办件编号")],
) -> HTMLResponse:
    """办件进度 (公开查询): the page the 决定书's QR code opens; the item, status and dates only."""
    limiter: SlidingWindow = request.app.state.progress_limiter
    if wait := limiter.hit(client_address(request, request.app.state.settings.login)):
        raise VerificationThrottled(f"查询过于频繁，请 {wait} 秒后再试", retry_after=wait)
    progress = await progress_service.public(session, case_no=case_no)
    lines = [(f"{t.at.astimezone(CHINA_TZ):%Y-%m-%d %H:%M}", t.title) for t in progress.timeline]
    response = render(request, "progress_public.html", {"p": progress, "lines": lines, "q": ""})
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@router.get(
    "/{case_no}/notices/{kind}.pdf",
    summary="通知书 PDF My case's notice",
    response_class=StreamingResponse,
    responses={
        **NOTICE_PDF,
        **problem_responses(
            Unauthorized,
            NotAuthorisedAgent,
            AgentAuthorisationExpired,
            AgentBeyondAuthority,
            NoticeNotFound,
            ManagementBadGateway,
            ManagementUnavailable,
        ),
    },
)
async def get_notice_pdf(
    case_no: Annotated[str, Path(pattern=r"^[0-9A-Za-z]{1,32}$", description="办件编号")],
    kind: Annotated[NoticeKind, Path(description=NOTICE_KINDS)],
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
) -> StreamingResponse:
    """受理通知书 / 一次性告知书 / 不予受理通知书 of my case, or the 联办结果告知书 of my joint case
    (once every department has decided): management renders it and checks, from the same token,
    that the case is the caller's (or the company's they act for)."""
    if principal.acting_for is not None:
        principal = (await agent_service.acting(session, principal=principal, action="view")).principal
    # The portal's own record first: a case that is not the caller's never reaches management.
    if not await progress_service.owns(session, principal=principal, case_no=case_no):
        raise NoticeNotFound(f"办件 {case_no} 没有可下载的通知书")
    guides: GuideClient = request.app.state.guides
    return await guides.notice(case_no, kind, request.headers["authorization"])
