"""REST surface of fees (收费标准), payment (缴费), receipts (电子票据), the sandbox provider's
cashier and notifications, and daily reconciliation (对账)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Path, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import (
    ROLE_ACCEPTOR,
    ROLE_ADMIN,
    ROLE_APPLICANT,
    ROLE_APPROVER,
    ROLE_DELIVERER,
    ROLE_RECEIVER,
    ROLE_REVIEWER,
    ROLE_SUPERVISOR,
    Principal,
    require_role,
)
from yiwang_common.db import get_session
from yiwang_common.documents import DocumentFontMissing, find_font
from yiwang_common.http import Forbidden, Unauthorized, problem_responses
from yiwang_common.http.pagination import ListResource, PageQuery
from yiwang_management.config import Settings
from yiwang_management.payment import service
from yiwang_management.payment.errors import (
    CaseNotPayable,
    ItemNotFoundForFees,
    NoFeeDue,
    NotificationAmountMismatch,
    NotificationRejected,
    OrderNotFound,
    PaymentCaseNotFound,
    ReceiptNotIssued,
    SandboxOrderNotFound,
)
from yiwang_management.payment.sandbox import SandboxProvider
from yiwang_management.payment.schemas import (
    CasePayment,
    FeeSchedule,
    FeeScheduleRequest,
    NotificationAck,
    OrderView,
    ReconciliationView,
    SandboxOrder,
    SandboxPaid,
    yuan,
)

router = APIRouter(tags=["payment"])

Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
Admin = Annotated[Principal, require_role(ROLE_ADMIN)]
Applicant = Annotated[Principal, require_role(ROLE_APPLICANT)]
Auditor = Annotated[Principal, require_role(ROLE_SUPERVISOR, ROLE_ADMIN)]
Reader = Annotated[
    Principal,
    require_role(
        ROLE_APPLICANT,
        ROLE_RECEIVER,
        ROLE_ACCEPTOR,
        ROLE_REVIEWER,
        ROLE_APPROVER,
        ROLE_DELIVERER,
        ROLE_SUPERVISOR,
    ),
]
CaseNo = Annotated[str, Path(pattern=r"^[0-9A-Za-z]{1,32}$", description="办件编号")]
ItemCode = Annotated[str, Path(pattern=r"^[0-9A-Za-z]{1,64}$", description="实施编码")]
ProviderOrderId = Annotated[str, Path(pattern=r"^SBX[0-9a-f]{24}$", description="模拟支付渠道订单号")]
Day = Annotated[date, Path(description="对账日期（北京时间）")]
AUTH = (Unauthorized, Forbidden)
PDF = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}


async def provider(request: Request) -> SandboxProvider:
    """The configured provider (the sandbox is the one the platform ships)."""
    settings: Settings = request.app.state.settings
    return SandboxProvider(request.app.state.sessionmaker, settings.payment)


Provider = Annotated[SandboxProvider, Depends(provider)]


# --- fee schedules ------------------------------------------------------------------------------


@router.get(
    "/items/{item_code}/fees",
    summary="收费标准 Fees of an item",
    response_model=FeeSchedule,
)
async def get_fees(item_code: ItemCode, session: Session) -> FeeSchedule:
    """The item's 收费项目 (amounts in fen), their legal basis and when they are paid (public)."""
    return await service.schedule(session, item_code)


@router.put(
    "/items/{item_code}/fees",
    summary="设置收费标准 Set the fees of an item",
    response_model=FeeSchedule,
    responses=problem_responses(*AUTH, ItemNotFoundForFees),
)
async def put_fees(
    item_code: ItemCode, body: FeeScheduleRequest, session: Session, principal: Admin
) -> FeeSchedule:
    """Replace the schedule; orders already made keep the lines they were made with."""
    return await service.set_schedule(session, item_code, body, principal)


# --- a case's payment ---------------------------------------------------------------------------


@router.get(
    "/cases/{case_no}/payment",
    summary="办件缴费 What a case owes",
    response_model=CasePayment,
    responses=problem_responses(*AUTH, PaymentCaseNotFound),
)
async def get_case_payment(
    case_no: CaseNo, request: Request, session: Session, principal: Reader, channel: Provider
) -> CasePayment:
    """The fees, the order and whether it is paid; an unpaid order is checked with the provider first."""
    return await service.case_payment(
        session, case_no, principal, provider=channel, source=request.app.state.runtime.source
    )


@router.post(
    "/cases/{case_no}/payment",
    summary="去缴费 Open the case's payment order",
    response_model=OrderView,
    responses=problem_responses(*AUTH, PaymentCaseNotFound, NoFeeDue, CaseNotPayable),
)
async def open_payment(
    case_no: CaseNo, request: Request, session: Session, principal: Applicant, channel: Provider
) -> OrderView:
    """One order per case, from the fee schedule (never an amount sent by the client); its
    ``pay_url`` is the provider's cashier. Asking again returns the same order."""
    settings: Settings = request.app.state.settings
    return await service.open_order(
        session,
        case_no,
        principal,
        provider=channel,
        settings=settings.payment,
        source=request.app.state.runtime.source,
    )


@router.get(
    "/cases/{case_no}/payment/receipt.pdf",
    summary="电子票据 Receipt of the case's payment",
    response_class=Response,
    responses={
        200: {"content": PDF, "description": "A4 PDF with the receipt number (票据号码)"},
        **problem_responses(*AUTH, PaymentCaseNotFound, ReceiptNotIssued, DocumentFontMissing),
    },
)
async def get_receipt(case_no: CaseNo, request: Request, session: Session, principal: Reader) -> Response:
    """Issued once, when the payment is recorded; the same number every time it is fetched."""
    order, case = await service.receipt(session, case_no, principal)
    settings: Settings = request.app.state.settings
    pdf = service.receipt_pdf(order, case, font=find_font(settings.guide_font_path))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{order.receipt_no}.pdf"'},
    )


# --- the provider's side ------------------------------------------------------------------------


@router.post(
    "/payments/notifications/sandbox",
    summary="支付结果通知 Notification from the sandbox provider",
    response_model=NotificationAck,
    responses=problem_responses(NotificationRejected, OrderNotFound, NotificationAmountMismatch),
)
async def sandbox_notification(request: Request, session: Session, channel: Provider) -> NotificationAck:
    """HMAC-SHA256 signed (header ``Yiwang-Sandbox-Signature: t=…,v1=…``); a forged, altered or
    stale one is refused with 400. Repeats are answered ``SUCCESS`` and change nothing."""
    body = await request.body()
    return await service.receive_notification(
        session, body, request.headers, provider=channel, source=request.app.state.runtime.source
    )


@router.get(
    "/payment-sandbox/orders/{provider_order_id}",
    summary="模拟收银台 The sandbox cashier's order",
    response_model=SandboxOrder,
    responses=problem_responses(SandboxOrderNotFound),
)
async def sandbox_order(provider_order_id: ProviderOrderId, channel: Provider) -> SandboxOrder:
    """What the cashier shows; the order id is the capability (as a provider's cashier URL is)."""
    found = await channel.order(provider_order_id)
    if found is None:
        raise SandboxOrderNotFound(f"模拟支付订单 {provider_order_id} 不存在")
    return SandboxOrder(
        provider_order_id=found.provider_order_id,
        merchant_order_no=found.merchant_order_no,
        subject=await channel.subject(provider_order_id) or "",
        amount_fen=found.amount_fen,
        amount=yuan(found.amount_fen),
        status=found.status,
    )


@router.post(
    "/payment-sandbox/orders/{provider_order_id}/pay",
    summary="模拟付款 Pay at the sandbox cashier",
    response_model=SandboxPaid,
    responses=problem_responses(SandboxOrderNotFound),
)
async def sandbox_pay(
    provider_order_id: ProviderOrderId, background: BackgroundTasks, channel: Provider
) -> SandboxPaid:
    """The applicant pays; the signed notification goes to the merchant asynchronously, after this answer."""
    signed = await channel.pay(provider_order_id)
    if signed is None:
        raise SandboxOrderNotFound(f"模拟支付订单 {provider_order_id} 不存在")
    background.add_task(channel.notify, provider_order_id, *signed)
    found = await channel.query(provider_order_id)
    assert found is not None
    return SandboxPaid(provider_order_id=provider_order_id, status=found.status, txn_id=found.txn_id)


# --- reconciliation -----------------------------------------------------------------------------


@router.post(
    "/payments/reconciliations/{day}",
    summary="对账 Reconcile a day with the provider's statement",
    response_model=ReconciliationView,
    responses=problem_responses(*AUTH),
)
async def run_reconciliation(
    day: Day, session: Session, principal: Auditor, channel: Provider
) -> ReconciliationView:
    """Matched / missing on our side / missing at the provider / amount mismatch, per line; a day
    with any mismatch is 存在差异 (logged, and listed for supervision). Running it again replaces it."""
    return await service.reconcile(session, day, provider=channel, by=principal.name)


@router.get(
    "/payments/reconciliations/{day}",
    summary="对账记录 A day's reconciliation",
    response_model=ReconciliationView,
    responses=problem_responses(*AUTH, OrderNotFound),
)
async def get_reconciliation(
    day: Day, session: Session, principal: Auditor, channel: Provider
) -> ReconciliationView:
    """The record of a day with every line, mismatches first."""
    found = await service.reconciliation(session, channel.name, day)
    if found is None:
        raise OrderNotFound(f"{day} 尚未对账")
    return found


@router.get(
    "/payments/reconciliations",
    summary="对账记录 Reconciliations",
    response_model=ListResource[ReconciliationView],
    responses=problem_responses(*AUTH),
)
async def list_reconciliations(
    session: Session,
    principal: Auditor,
    pages: PageQuery,
    status: Annotated[
        str | None, Query(pattern="^(balanced|mismatched)$", description="mismatched 存在差异 (电子监察)")
    ] = None,
) -> Any:
    """Newest first; supervision watches ``status=mismatched``."""
    rows, total = await service.reconciliations(
        session, status=status, offset=pages.offset, limit=pages.limit
    )
    return pages.wrap(list(rows), total)
