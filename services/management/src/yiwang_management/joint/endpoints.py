"""REST surface of joint cases (联办件) and of the plug-in contract (部门自建系统接入, ADR 0112).

``router``: the window opens a joint case; the applicant and staff read it. ``plugin_router``:
administrators register external systems and say which system handles an item; an external
system exchanges its credentials for a token, pulls its dispatches and reports back — only ever
about the parts of its own department.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.access import AccessReason, ReasonRequired
from yiwang_common.auth import ROLE_ACCEPTOR, ROLE_ADMIN, CurrentPrincipal, Principal, require_role
from yiwang_common.contracts.plugin import (
    DispatchList,
    PartState,
    ResultReport,
    StepReport,
    SupplementRequest,
    TokenRequest,
    TokenResponse,
)
from yiwang_common.db import get_session
from yiwang_common.documents import DocumentFontMissing, find_font
from yiwang_common.http import Forbidden, Unauthorized, problem_responses
from yiwang_management.case.endpoints import PDF_RESPONSE, pdf_response
from yiwang_management.joint import service
from yiwang_management.joint.errors import (
    BadClientCredentials,
    BadSystemToken,
    HandlerInvalid,
    ItemNotFound,
    JointCaseInvalid,
    JointCaseNotFound,
    PartConflict,
    PartNotAwaitingSupplement,
    PartNotFound,
    ResultInvalid,
    SupplementInvalid,
    SystemNotFound,
)
from yiwang_management.joint.models import ExternalSystem
from yiwang_management.joint.schemas import (
    HandlerConfig,
    HandlerView,
    JointCaseCreate,
    JointCaseView,
    JointCorrection,
    JointSupplement,
    SystemCreate,
    SystemCreated,
    SystemView,
)

Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
Acceptor = Annotated[Principal, require_role(ROLE_ACCEPTOR)]
Admin = Annotated[Principal, require_role(ROLE_ADMIN)]
JointNo = Annotated[str, Path(pattern=r"^[0-9A-Za-z]{21}$", description="联办件办件编号")]
PartNo = Annotated[str, Path(pattern=r"^[0-9A-Za-z]{21}P[0-9]{2}$", description="分件编号")]
ItemCode = Annotated[str, Path(pattern=r"^[0-9A-Za-z]{1,64}$", description="实施编码")]
AUTH_PROBLEMS = (Unauthorized, Forbidden)
SYSTEM_PROBLEMS = (BadSystemToken,)

plugin_bearer = HTTPBearer(
    scheme_name="pluginToken",
    description="An external system's short-lived token from POST /api/v1/plugin/token (client credentials)",
    auto_error=False,
)


async def current_system(
    session: Session,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(plugin_bearer)],
) -> ExternalSystem:
    """FastAPI dependency: the external system the bearer token belongs to."""
    token = credentials.credentials.strip() if credentials is not None else ""
    system = await service.authenticate(session, token) if token else None
    if system is None:
        raise BadSystemToken("缺少或无效的外部系统令牌")
    return system


System = Annotated[ExternalSystem, Depends(current_system)]


def _json(model: BaseModel, status_code: int = 200) -> Response:
    return Response(content=model.model_dump_json(), media_type="application/json", status_code=status_code)


router = APIRouter(prefix="/joint-cases", tags=["joint"])
plugin_router = APIRouter(prefix="/plugin", tags=["plugin"])
#: Data scope for the authorisation matrix (ADR 0105).
JOINT_SCOPE: dict[str, Any] = {"x-access-scope": "joint"}
#: The joint case's applicant (or an agent for the applicant unit) only; staff find nothing.
APPLICANT_SCOPE: dict[str, Any] = {"x-access-scope": "applicant"}
SYSTEM_SCOPE: dict[str, Any] = {"x-access-scope": "external-system"}


@router.post(
    "",
    status_code=201,
    summary="联办受理 Open a joint case",
    response_model=JointCaseView,
    responses=problem_responses(*AUTH_PROBLEMS, ItemNotFound, JointCaseInvalid),
)
async def open_joint_case(
    request: Request, session: Session, principal: Acceptor, body: JointCaseCreate
) -> Response:
    """收件一次、同时分派: the window collects the materials once and dispatches one part to every
    department at the same moment, each to the system its item is configured for."""
    view = await service.open_joint_case(
        session,
        body,
        principal=principal,
        calendar=request.app.state.calendar,
        region_code=request.app.state.settings.platform.region_code,
        source=request.app.state.runtime.source,
        supervision=request.app.state.settings.supervision,
    )
    return _json(view, 201)


@router.get(
    "/{joint_no}",
    openapi_extra=JOINT_SCOPE,
    summary="联办件 A joint case with its parts",
    response_model=JointCaseView,
    responses=problem_responses(Unauthorized, JointCaseNotFound),
)
async def get_joint_case(joint_no: JointNo, session: Session, principal: CurrentPrincipal) -> Response:
    """The combined case: every part, who it waits on, and the one combined result (and notice)."""
    view = await service.joint_view(session, joint_no, principal=principal)
    if view is None:
        raise JointCaseNotFound(f"联办件 {joint_no} 不存在")
    return _json(view)


@router.get(
    "/{joint_no}/notice.pdf",
    openapi_extra=JOINT_SCOPE,
    summary="联办结果告知书 PDF The combined notice",
    response_class=Response,
    responses={
        **PDF_RESPONSE,
        **problem_responses(Unauthorized, ReasonRequired, JointCaseNotFound, DocumentFontMissing),
    },
)
async def get_joint_notice_pdf(
    joint_no: JointNo, request: Request, session: Session, principal: CurrentPrincipal, reason: AccessReason
) -> Response:
    """The one combined result of a completed joint case (联办结果告知书, with the 联办不予许可告知
    and the 救济途径 when a part was refused) as a printable PDF with the 办件编号 and a QR code to
    the progress page; for the applicant and the staff who may read the joint case (an
    administrator with a reason, audited). 404 before every part has decided."""
    settings = request.app.state.settings
    filename, pdf = await service.notice_pdf(
        session,
        joint_no,
        principal=principal,
        reason=reason,
        progress_url=settings.progress_url(joint_no),
        font=find_font(settings.guide_font_path),
        source=request.app.state.runtime.source,
    )
    return pdf_response(filename, pdf)


@router.post(
    "/{joint_no}/parts/{part_no}/supplement",
    openapi_extra=JOINT_SCOPE,
    summary="补正材料 Hand in a department's supplement",
    response_model=JointCaseView,
    responses=problem_responses(
        *AUTH_PROBLEMS, JointCaseNotFound, PartNotAwaitingSupplement, SupplementInvalid
    ),
)
async def supply_supplement(
    joint_no: JointNo,
    part_no: PartNo,
    request: Request,
    session: Session,
    principal: Acceptor,
    body: JointSupplement,
) -> Response:
    """The window hands in what a department asked for (补正); an external system's part goes back to
    its dispatch list with the supplemented materials (``reason: supplemented``), a built-in part's
    correction goes to business (ADR 0127)."""
    view = await service.supply_supplement(
        session, joint_no, part_no, body, principal=principal, source=request.app.state.runtime.source
    )
    return _json(view)


@router.post(
    "/{joint_no}/parts/{part_no}/correction",
    openapi_extra=APPLICANT_SCOPE,
    summary="补正 The applicant's correction of a department's part",
    response_model=JointCaseView,
    responses=problem_responses(
        Unauthorized, JointCaseNotFound, PartNotAwaitingSupplement, SupplementInvalid
    ),
)
async def correct_part(
    joint_no: JointNo,
    part_no: PartNo,
    request: Request,
    session: Session,
    principal: CurrentPrincipal,
    body: JointCorrection,
) -> Response:
    """The joint case's applicant (or an agent for the applicant unit) hands in what the department of
    a 待补正 part asked for, as the portal forwards it (ADR 0127): a built-in part's correction goes
    to business, which runs the part's clock again; an external system's part is dispatched to it
    again. Anyone else's joint case answers 404; a part not 待补正 (already supplied, decided) 409."""
    view = await service.applicant_correction(
        session, joint_no, part_no, body, principal=principal, source=request.app.state.runtime.source
    )
    return _json(view)


@plugin_router.post(
    "/systems",
    status_code=201,
    summary="登记外部系统 Register an external system",
    response_model=SystemCreated,
    responses=problem_responses(*AUTH_PROBLEMS),
)
async def register_system(session: Session, principal: Admin, body: SystemCreate) -> Response:
    """Register a department's own approval system; the answer carries its client secret, once."""
    system, secret = await service.register_system(session, body, actor=principal)
    view = SystemCreated(**SystemView.model_validate(system).model_dump(), client_secret=secret)
    return _json(view, 201)


@plugin_router.get(
    "/systems",
    summary="外部系统列表 Registered external systems",
    response_model=list[SystemView],
    responses=problem_responses(*AUTH_PROBLEMS),
)
async def list_systems(session: Session, principal: Admin) -> list[SystemView]:
    """Every registered external system (never a secret)."""
    return [SystemView.model_validate(s) for s in await service.list_systems(session)]


@plugin_router.put(
    "/items/{item_code}/handler",
    summary="配置办理系统 Which system handles an item",
    response_model=HandlerView,
    responses=problem_responses(*AUTH_PROBLEMS, ItemNotFound, SystemNotFound, HandlerInvalid),
)
async def put_handler(
    item_code: ItemCode, session: Session, principal: Admin, body: HandlerConfig
) -> HandlerView:
    """The built-in workflow (default), or an external system of the item's own department."""
    return HandlerView.model_validate(await service.set_handler(session, item_code, body, actor=principal))


@plugin_router.post(
    "/token",
    summary="外部系统令牌 Exchange client credentials for a token",
    response_model=TokenResponse,
    responses=problem_responses(BadClientCredentials),
)
async def token(session: Session, body: TokenRequest) -> Response:
    """Client credentials → a bearer token valid for 15 minutes, scoped to the system's department."""
    return _json(await service.issue_token(session, body))


@plugin_router.get(
    "/dispatches",
    openapi_extra=SYSTEM_SCOPE,
    summary="待接收分件 Parts dispatched to the calling system",
    response_model=DispatchList,
    responses=problem_responses(*SYSTEM_PROBLEMS),
)
async def dispatches(session: Session, system: System) -> Response:
    """Every part dispatched to this system and not acknowledged yet, oldest first; a part stays
    here (and is handed out again) until the system acknowledges it."""
    return _json(await service.hand_out(session, system))


@plugin_router.post(
    "/dispatches/{part_no}/ack",
    openapi_extra=SYSTEM_SCOPE,
    summary="确认接收 Acknowledge a dispatch",
    response_model=PartState,
    responses=problem_responses(*SYSTEM_PROBLEMS, PartNotFound),
)
async def ack(part_no: PartNo, request: Request, session: Session, system: System) -> Response:
    """The system has taken the part over (idempotent)."""
    return _json(await service.acknowledge(session, system, part_no, source=request.app.state.runtime.source))


@plugin_router.get(
    "/parts/{part_no}",
    openapi_extra=SYSTEM_SCOPE,
    summary="分件状态 A part of the calling system",
    response_model=PartState,
    responses=problem_responses(*SYSTEM_PROBLEMS, PartNotFound),
)
async def get_part(part_no: PartNo, session: Session, system: System) -> Response:
    """Where one of this system's parts stands; another department's parts do not exist here."""
    return _json(await service.get_part(session, system, part_no))


@plugin_router.post(
    "/parts/{part_no}/steps",
    openapi_extra=SYSTEM_SCOPE,
    summary="报告环节 Report a step",
    response_model=PartState,
    responses=problem_responses(*SYSTEM_PROBLEMS, PartNotFound, PartConflict),
)
async def report_step(
    part_no: PartNo, request: Request, session: Session, system: System, body: StepReport
) -> Response:
    """A step the system finished; a replay with the same key and end time is recorded once."""
    source = request.app.state.runtime.source
    return _json(await service.report_step(session, system, part_no, body, source=source))


@plugin_router.post(
    "/parts/{part_no}/supplement-requests",
    openapi_extra=SYSTEM_SCOPE,
    summary="申请补正 Ask for a supplement",
    response_model=PartState,
    responses=problem_responses(*SYSTEM_PROBLEMS, PartNotFound, PartConflict),
)
async def request_supplement(
    part_no: PartNo, request: Request, session: Session, system: System, body: SupplementRequest
) -> Response:
    """The department needs more from the applicant; the part shows 待补正 to the window."""
    source = request.app.state.runtime.source
    return _json(await service.request_supplement(session, system, part_no, body, source=source))


@plugin_router.post(
    "/parts/{part_no}/result",
    openapi_extra=SYSTEM_SCOPE,
    summary="报告办理结果 Report the result",
    response_model=PartState,
    responses=problem_responses(*SYSTEM_PROBLEMS, PartNotFound, PartConflict, ResultInvalid),
)
async def report_result(
    part_no: PartNo, request: Request, session: Session, system: System, body: ResultReport
) -> Response:
    """The department's decision on its part; the same result again is a no-op, another one 409.
    The last part's result completes the joint case with one combined result."""
    return _json(
        await service.report_result(session, system, part_no, body, source=request.app.state.runtime.source)
    )
