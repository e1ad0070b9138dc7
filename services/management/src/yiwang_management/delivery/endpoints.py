"""REST surface of delivery of results (送达)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import (
    ROLE_ACCEPTOR,
    ROLE_APPLICANT,
    ROLE_APPROVER,
    ROLE_DELIVERER,
    ROLE_RECEIVER,
    ROLE_REVIEWER,
    ROLE_SUPERVISOR,
    Principal,
    require_role,
)
from yiwang_common.db import get_session, utcnow
from yiwang_common.http import Forbidden, Unauthorized, problem_responses
from yiwang_common.http.problems import ValidationFailed
from yiwang_management.delivery import service
from yiwang_management.delivery.courier import SandboxCourier
from yiwang_management.delivery.errors import (
    AddressRequired,
    DeliveryCaseNotFound,
    DeliveryClosed,
    DeliveryNotFound,
    ResultNotReady,
    TrackingEventRejected,
    TrackingNumberTaken,
    WrongDeliveryMethod,
)
from yiwang_management.delivery.schemas import (
    DeliveryChoice,
    DeliveryRateReport,
    DeliveryView,
    DispatchRequest,
    HandOver,
    TrackingEventIn,
)
from yiwang_management.payment.errors import PaymentRequired
from yiwang_management.shared import local_date

router = APIRouter(tags=["delivery"])

Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
Applicant = Annotated[Principal, require_role(ROLE_APPLICANT)]
Deliverer = Annotated[Principal, require_role(ROLE_DELIVERER, ROLE_ACCEPTOR)]
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
StatsReader = Annotated[Principal, require_role(ROLE_ACCEPTOR, ROLE_DELIVERER, ROLE_SUPERVISOR)]
CaseNo = Annotated[str, Path(pattern=r"^[0-9A-Za-z]{1,32}$", description="办件编号")]
AUTH = (Unauthorized, Forbidden)
UNIT_REGION = {"x-access-scope": "unit-region"}


async def courier() -> SandboxCourier:
    """The configured courier (the sandbox ships)."""
    return SandboxCourier()


@router.get(
    "/cases/{case_no}/delivery",
    summary="送达 Delivery of a case's result",
    response_model=DeliveryView,
    responses=problem_responses(*AUTH, DeliveryCaseNotFound, DeliveryNotFound),
)
async def get_delivery(case_no: CaseNo, session: Session, principal: Reader) -> DeliveryView:
    """Method, address, due date (5 working days from the decision), tracking number and events."""
    return await service.view(session, case_no, principal)


@router.put(
    "/cases/{case_no}/delivery",
    summary="选择送达方式 Choose how the result is delivered",
    response_model=DeliveryView,
    responses=problem_responses(*AUTH, DeliveryCaseNotFound, DeliveryClosed, ResultNotReady, AddressRequired),
)
async def choose_delivery(
    case_no: CaseNo, body: DeliveryChoice, request: Request, session: Session, principal: Applicant
) -> DeliveryView:
    """窗口领取 or 邮寄送达 (with recipient, phone and address); changeable until the result leaves."""
    return await service.choose(session, case_no, principal, body, source=request.app.state.runtime.source)


@router.post(
    "/cases/{case_no}/delivery/dispatch",
    summary="证照寄送 Post the result",
    response_model=DeliveryView,
    openapi_extra=UNIT_REGION,
    responses=problem_responses(
        *AUTH,
        DeliveryCaseNotFound,
        DeliveryNotFound,
        ResultNotReady,
        WrongDeliveryMethod,
        DeliveryClosed,
        PaymentRequired,
        TrackingNumberTaken,
    ),
)
async def dispatch(
    case_no: CaseNo,
    request: Request,
    session: Session,
    principal: Deliverer,
    carrier: Annotated[SandboxCourier, Depends(courier)],
    body: Annotated[DispatchRequest | None, Body()] = None,
) -> DeliveryView:
    """The courier's waybill and tracking number (or a waybill filled in by hand, ``courier`` +
    ``tracking_no``); refused while a fee due before delivery is unpaid."""
    return await service.dispatch(
        session,
        case_no,
        principal,
        courier=carrier,
        source=request.app.state.runtime.source,
        waybill=(body.courier, body.tracking_no) if body is not None else None,
    )


@router.post(
    "/cases/{case_no}/delivery/hand-over",
    summary="窗口领取 Hand the result over at the window",
    response_model=DeliveryView,
    openapi_extra=UNIT_REGION,
    responses=problem_responses(
        *AUTH,
        DeliveryCaseNotFound,
        DeliveryNotFound,
        ResultNotReady,
        WrongDeliveryMethod,
        DeliveryClosed,
        PaymentRequired,
    ),
)
async def hand_over(
    case_no: CaseNo, body: HandOver, request: Request, session: Session, principal: Deliverer
) -> DeliveryView:
    """现场递交: delivered, the delivery clock stops (on time or not)."""
    return await service.hand_over(
        session, case_no, principal, collected_by=body.collected_by, source=request.app.state.runtime.source
    )


@router.post(
    "/cases/{case_no}/delivery/events",
    summary="物流轨迹 Record a courier scan",
    response_model=DeliveryView,
    openapi_extra=UNIT_REGION,
    responses=problem_responses(
        *AUTH, DeliveryCaseNotFound, DeliveryNotFound, ResultNotReady, DeliveryClosed, TrackingEventRejected
    ),
)
async def track(
    case_no: CaseNo, body: TrackingEventIn, request: Request, session: Session, principal: Deliverer
) -> DeliveryView:
    """运输中 / 派送中 / 已签收; 已签收 completes the delivery and stops its clock."""
    return await service.track(
        session,
        case_no,
        principal,
        kind=body.kind,
        description=body.description,
        source=request.app.state.runtime.source,
    )


@router.get(
    "/deliveries/statistics/on-time",
    summary="送达及时率 Share of results delivered in time",
    response_model=DeliveryRateReport,
    responses=problem_responses(*AUTH, ValidationFailed),
)
async def delivery_rate(
    session: Session,
    principal: StatsReader,
    first: Annotated[date | None, Query(alias="from", description="送达日期起, default 30 days ago")] = None,
    last: Annotated[date | None, Query(alias="to", description="送达日期止 (含)")] = None,
) -> DeliveryRateReport:
    """Results delivered in the window per department, and how many within the limit."""
    last = last or local_date(utcnow())
    if first is None:
        first = last - timedelta(days=30) if last > date(1, 2, 1) else last
    if first > last or (last - first).days > 3660:
        raise ValidationFailed("统计窗口无效：起始日期须不晚于截止日期，且不超过十年")
    return await service.on_time_rates(session, principal, first=first, last=last)
