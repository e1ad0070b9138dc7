"""REST surface of cases for window staff (窗口受理) and supervisors (电子监察)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.access import HANDLING_ROLES, AccessReason, ReasonRequired
from yiwang_common.auth import (
    ROLE_ACCEPTOR,
    ROLE_ADMIN,
    ROLE_RECEIVER,
    ROLE_SUPERVISOR,
    CurrentPrincipal,
    Principal,
    require_role,
)
from yiwang_common.db import get_session
from yiwang_common.documents import DocumentFontMissing, find_font
from yiwang_common.http import Forbidden, Unauthorized, problem_responses
from yiwang_common.http.pagination import ListResource, PageQuery
from yiwang_common.http.problems import ValidationFailed
from yiwang_management.case import intake, service as case_service
from yiwang_management.case.errors import (
    AgentMismatch,
    CaseNotFound,
    CaseStateConflict,
    CreditCodeInvalid,
    DeferralNotAllowed,
    DeferralNotLapsed,
    DeferredMaterialInvalid,
    IdNumberInvalid,
    IntakeMaterialInvalid,
    ItemNotHandledHere,
    MaterialsMissing,
    NothingMissing,
    NothingPending,
    NoticeIncomplete,
    NoticeMaterialInvalid,
    NoticeNotIssued,
)
from yiwang_management.case.models import Case
from yiwang_management.case.schemas import (
    AcceptRequest,
    CaseDetail,
    CaseStatus,
    CaseSummary,
    DeferredLapse,
    DeferredSupply,
    NoticeKind,
    RejectRequest,
    SupplementNoticeRequest,
    WindowIntakeRequest,
)
from yiwang_management.payment.errors import PaymentRequired


def _json(model: BaseModel) -> Response:
    # The model is built and validated here already; answering with its JSON directly spares
    # FastAPI validating and serializing it a second time through ``response_model``.
    return Response(content=model.model_dump_json(), media_type="application/json")


router = APIRouter(prefix="/cases", tags=["cases"])
#: Data scope for the authorisation matrix (docs/authorization-matrix.md, ADR 0105).
UNIT_REGION: dict[str, Any] = {"x-access-scope": "unit-region"}

Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
Reader = Annotated[Principal, require_role(*sorted(HANDLING_ROLES | {ROLE_SUPERVISOR, ROLE_ADMIN}))]
Acceptor = Annotated[Principal, require_role(ROLE_ACCEPTOR)]
#: 收件人 or 受理人: who takes materials at the window.
Intake = Annotated[Principal, require_role(ROLE_RECEIVER, ROLE_ACCEPTOR)]
CaseNo = Annotated[str, Path(pattern=r"^[0-9A-Za-z]{1,32}$", description="办件编号")]
AUTH_PROBLEMS = (Unauthorized, Forbidden)


async def _view(session: AsyncSession, case: Case) -> CaseDetail:
    return CaseDetail.build(case, await case_service.case_steps(session, case))


@router.get(
    "",
    summary="办件列表 List cases",
    response_model=ListResource[CaseSummary],
    responses=problem_responses(*AUTH_PROBLEMS, ReasonRequired),
)
async def list_cases(
    request: Request,
    session: Session,
    principal: Reader,
    pages: PageQuery,
    reason: AccessReason,
    status: Annotated[CaseStatus | None, Query(description="办件状态")] = None,
    item_code: Annotated[str | None, Query(pattern=r"^[0-9A-Za-z]{1,64}$", description="实施编码")] = None,
) -> Response:
    """可见办件 Cases the caller may read, newest first: their unit's in their region (handling staff),
    their region's (电子监察), or their region's with a reason (中心管理员, audited)."""
    cases, total = await case_service.list_case_summaries(
        session,
        principal,
        status=status,
        item_code=item_code,
        offset=pages.offset,
        limit=pages.limit,
        reason=reason,
        source=request.app.state.runtime.source,
    )
    return _json(pages.wrap([CaseSummary.from_case(c) for c in cases], total))


@router.get(
    "/{case_no}",
    summary="办件详情 Get a case",
    response_model=CaseDetail,
    responses=problem_responses(*AUTH_PROBLEMS, ReasonRequired, CaseNotFound),
)
async def get_case(
    case_no: CaseNo, request: Request, session: Session, principal: Reader, reason: AccessReason
) -> CaseDetail:
    """办件详情 One case with applicant, materials, steps and deadlines; the read is audited."""
    case = await case_service.read_case(
        session, case_no, principal, reason=reason, source=request.app.state.runtime.source
    )
    return await _view(session, case)


@router.post(
    "/{case_no}/accept",
    openapi_extra=UNIT_REGION,
    summary="受理 Accept a case",
    response_model=CaseDetail,
    responses=problem_responses(
        *AUTH_PROBLEMS,
        CaseNotFound,
        CaseStateConflict,
        MaterialsMissing,
        DeferralNotAllowed,
        DeferredMaterialInvalid,
        ValidationFailed,
        PaymentRequired,
    ),
)
async def accept_case(
    case_no: CaseNo,
    request: Request,
    session: Session,
    principal: Acceptor,
    body: Annotated[AcceptRequest | None, Body()] = None,
) -> Response:
    """受理 Accept a pending case whose required materials are complete; the deadline clock starts.

    容缺受理: where the item allows it, missing non-key (可容缺) materials may be listed in
    ``deferred_materials`` with a ``supply_by`` date; the case is accepted but not handed to the
    department, and its clock does not start, until the last of them arrives
    (``POST …/deferred-materials``)."""
    body = body or AcceptRequest()
    case, steps = await case_service.accept_case_with_steps(
        session,
        case_no=case_no,
        principal=principal,
        opinion=body.opinion,
        calendar=request.app.state.calendar,
        source=request.app.state.runtime.source,
        supervision=request.app.state.settings.supervision,
        deferred=body.deferred_materials,
        supply_by=body.supply_by,
    )
    return _json(CaseDetail.build(case, steps))


@router.post(
    "/{case_no}/supplement-notice",
    openapi_extra=UNIT_REGION,
    summary="一次性告知 Issue a one-time notice",
    response_model=CaseDetail,
    responses=problem_responses(
        *AUTH_PROBLEMS,
        CaseNotFound,
        CaseStateConflict,
        NothingMissing,
        NoticeIncomplete,
        NoticeMaterialInvalid,
    ),
)
async def issue_supplement_notice(
    case_no: CaseNo,
    request: Request,
    session: Session,
    principal: Acceptor,
    body: Annotated[SupplementNoticeRequest | None, Body()] = None,
) -> CaseDetail:
    """补正告知 Ask the applicant, once, for every missing material."""
    notice = body or SupplementNoticeRequest()
    case = await case_service.issue_supplement_notice(
        session,
        case_no=case_no,
        principal=principal,
        requested=notice.missing_materials,
        note=notice.note,
        source=request.app.state.runtime.source,
    )
    return await _view(session, case)


@router.post(
    "/{case_no}/reject",
    openapi_extra=UNIT_REGION,
    summary="不予受理 Refuse a case",
    response_model=CaseDetail,
    responses=problem_responses(*AUTH_PROBLEMS, CaseNotFound, CaseStateConflict),
)
async def reject_case(
    case_no: CaseNo, body: RejectRequest, request: Request, session: Session, principal: Acceptor
) -> CaseDetail:
    """不予受理 Refuse to accept a pending or awaiting-supplement case, with the reason."""
    case = await case_service.reject_case(
        session,
        case_no=case_no,
        principal=principal,
        reason=body.reason,
        source=request.app.state.runtime.source,
    )
    return await _view(session, case)


@router.post(
    "/{case_no}/deferred-materials",
    openapi_extra=UNIT_REGION,
    summary="补齐容缺材料 Hand in owed materials",
    response_model=CaseDetail,
    responses=problem_responses(
        *AUTH_PROBLEMS, CaseNotFound, NothingPending, DeferredMaterialInvalid, ValidationFailed
    ),
)
async def supply_deferred(
    case_no: CaseNo, body: DeferredSupply, request: Request, session: Session, principal: Intake
) -> CaseDetail:
    """容缺材料补齐 The materials a 容缺受理 left owed; the last one starts the clock and hands the case on."""
    case = await case_service.supply_deferred(
        session,
        case_no=case_no,
        principal=principal,
        materials=body.materials,
        calendar=request.app.state.calendar,
        source=request.app.state.runtime.source,
        supervision=request.app.state.settings.supervision,
    )
    return await _view(session, case)


@router.post(
    "/{case_no}/deferred-materials/lapse",
    openapi_extra=UNIT_REGION,
    summary="容缺逾期退回 Return a 容缺 case whose owed material never came",
    response_model=CaseDetail,
    responses=problem_responses(
        *AUTH_PROBLEMS, CaseNotFound, NothingPending, DeferralNotLapsed, CaseStateConflict, ValidationFailed
    ),
)
async def lapse_deferred(
    case_no: CaseNo,
    request: Request,
    session: Session,
    principal: Acceptor,
    body: Annotated[DeferredLapse | None, Body()] = None,
) -> CaseDetail:
    """容缺逾期退回 After ``pending_due_date`` has passed with materials still owed, the window returns
    the case: 不予受理 (a 退回件) with its notice naming the owed materials and the date; the
    supervision warning of the date closes with it (ADR 0119)."""
    case = await case_service.lapse_deferred(
        session,
        case_no=case_no,
        principal=principal,
        reason=(body or DeferredLapse()).reason,
        source=request.app.state.runtime.source,
    )
    return await _view(session, case)


@router.post(
    "/window-intake",
    openapi_extra=UNIT_REGION,
    status_code=201,
    summary="窗口收件 Register an application at the window",
    response_model=CaseDetail,
    responses=problem_responses(
        *AUTH_PROBLEMS,
        IdNumberInvalid,
        CreditCodeInvalid,
        AgentMismatch,
        ItemNotHandledHere,
        IntakeMaterialInvalid,
        CaseNotFound,
        ValidationFailed,
    ),
)
async def window_intake(
    body: WindowIntakeRequest, request: Request, session: Session, principal: Intake
) -> CaseDetail:
    """窗口收件 Staff register an application brought to the hall for a citizen, or for a unit (its
    统一社会信用代码, 法定代表人 and the 经办人 at the counter), under the same rules as an online one; then accept, notify or refuse it as any case. A re-sent ``application_id``
    answers with the case it already became."""
    case = await intake.register_at_window(
        session,
        body=body,
        principal=principal,
        region_code=request.app.state.settings.platform.region_code,
        source=request.app.state.runtime.source,
    )
    return await _view(session, case)


PDF_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        "description": "A4 通知书, 中文字体子集内嵌, with the 办件编号 and a QR code to the progress page",
    }
}


@router.get(
    "/{case_no}/notices/{kind}.pdf",
    summary="通知书 PDF Notice document",
    response_class=Response,
    openapi_extra={"x-access-scope": "own-or-unit-region"},
    responses={
        **PDF_RESPONSE,
        **problem_responses(Unauthorized, ReasonRequired, NoticeNotIssued, DocumentFontMissing),
    },
)
async def get_notice_pdf(
    request: Request,
    session: Session,
    principal: CurrentPrincipal,
    case_no: CaseNo,
    kind: Annotated[
        NoticeKind,
        Path(description="acceptance 受理通知书 / supplement 一次性告知书 / rejection 不予受理通知书"),
    ],
    reason: AccessReason,
) -> Response:
    """受理通知书 / 一次性告知书 / 不予受理通知书 as a printable PDF, for the applicant (their own case)
    and staff who may read the case (an administrator with a reason, audited)."""
    settings = request.app.state.settings
    filename, pdf = await case_service.notice_pdf(
        session,
        case_no=case_no,
        kind=kind,
        principal=principal,
        reason=reason,
        progress_url=settings.progress_url(case_no),
        font=find_font(settings.guide_font_path),
        source=request.app.state.runtime.source,
    )
    return pdf_response(filename, pdf)


def pdf_response(filename: str, pdf: bytes) -> Response:
    """A PDF to show inline, never cached by a shared cache (it carries personal data)."""
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )
