"""Rules of delivery (送达): the applicant's choice, a limit of five working days from the
decision supervised like any step, dispatch with a courier's tracking number, tracking events,
hand-over at the window, and no result leaving before a fee due before delivery is paid."""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.access import handling_scope
from yiwang_common.auth import ROLE_SUPERVISOR, Principal
from yiwang_common.calendar import WorkingDayCalendar
from yiwang_common.db import utcnow
from yiwang_management.case.models import COMPLETED, NOT_ACCEPTED, Case
from yiwang_management.case.repository import CaseRepository
from yiwang_management.config import DeliverySettings, SupervisionSettings
from yiwang_management.delivery.courier import Courier
from yiwang_management.delivery.errors import (
    DeliveryCaseNotFound,
    DeliveryClosed,
    DeliveryNotFound,
    ResultNotReady,
    TrackingEventRejected,
    WrongDeliveryMethod,
)
from yiwang_management.delivery.models import (
    AWAITING,
    DELIVERED,
    DELIVERY_STEP,
    DELIVERY_STEP_NAME,
    DISPATCHED,
    EVENT_NAMES,
    METHOD_NAMES,
    POST,
    READY,
    WINDOW,
    CaseDelivery,
    DeliveryEvent,
)
from yiwang_management.delivery.repository import DeliveryRepository
from yiwang_management.delivery.schemas import (
    DeliveryChoice,
    DeliveryRateReport,
    DeliveryRateRow,
    DeliveryView,
)
from yiwang_management.payment import service as payment_service
from yiwang_management.payment.errors import PaymentCaseNotFound
from yiwang_management.shared import local_date
from yiwang_management.supervision import deadlines

log = logging.getLogger(__name__)
DEFAULTS = DeliverySettings()


async def _event(
    session: AsyncSession, case_no: str, kind: str, description: str, by: str, at: datetime
) -> None:
    await DeliveryRepository.from_session(session).add_event(
        DeliveryEvent(case_no=case_no, kind=kind, description=description, at=at, actor=by[:100])
    )


async def view(session: AsyncSession, case_no: str, principal: Principal) -> DeliveryView:
    """The case's delivery as its applicant or the handling staff see it."""
    try:
        case = await payment_service.visible_case(session, case_no, principal)
    except PaymentCaseNotFound as exc:
        raise DeliveryCaseNotFound(f"办件 {case_no} 不存在") from exc
    repository = DeliveryRepository.from_session(session)
    delivery = await repository.get(case.case_no)
    if delivery is None:
        raise DeliveryNotFound(f"办件 {case.case_no} 尚未确定送达方式")
    return DeliveryView.of(delivery, await repository.events(case.case_no))


async def choose(
    session: AsyncSession, case_no: str, principal: Principal, body: DeliveryChoice
) -> DeliveryView:
    """选择送达方式 (at intake or any time before the result leaves); the applicant's own case."""
    try:
        case = await payment_service.visible_case(session, case_no, principal)
    except PaymentCaseNotFound as exc:
        raise DeliveryCaseNotFound(f"办件 {case_no} 不存在") from exc
    if case.status == NOT_ACCEPTED:
        raise ResultNotReady(f"办件 {case.case_no} 已不予受理")
    repository = DeliveryRepository.from_session(session)
    delivery = await repository.get(case.case_no, for_update=True)
    now = utcnow()
    values = {
        "method": body.method,
        "recipient_name": body.recipient_name if body.method == POST else None,
        "recipient_phone": body.recipient_phone if body.method == POST else None,
        "address": body.address if body.method == POST else None,
        "postcode": body.postcode if body.method == POST else None,
        "chosen_at": now,
        "chosen_by": principal.name[:100],
    }
    if delivery is None:
        delivery = await repository.add(
            CaseDelivery(
                case_no=case.case_no, status=READY if case.status == COMPLETED else AWAITING, **values
            )
        )
    elif delivery.status in (DISPATCHED, DELIVERED):
        raise DeliveryClosed(
            f"办件 {case.case_no} 的结果已{'寄出' if delivery.status == DISPATCHED else '送达'}"
        )
    else:
        await repository.update(delivery, update_dict=values)
    await _event(session, case.case_no, "chosen", f"选择{METHOD_NAMES[body.method]}", principal.name, now)
    return DeliveryView.of(delivery, await repository.events(case.case_no))


async def start(
    session: AsyncSession,
    case: Case | object,
    *,
    decided_at: datetime,
    calendar: WorkingDayCalendar,
    settings: DeliverySettings = DEFAULTS,
    supervision: SupervisionSettings = deadlines.DEFAULTS,
) -> None:
    """作出决定: the delivery limit starts (5 working days), supervised as step 送达.

    An applicant who chose nothing collects at the window (窗口领取), the default of seed rules
    §4.1. One statement (completion is a hot path); a replayed decision changes nothing.
    """
    case_no, item_code, org_code = (getattr(case, k) for k in ("case_no", "item_code", "org_code"))
    decided_on = local_date(decided_at)
    due = calendar.add_working_days(decided_on, settings.limit_days)
    # Warning dates for every threshold up to the limit; a larger one warns on the decision day.
    warn_dates = [calendar.subtract_working_days(due, n) for n in range(settings.limit_days + 1)]
    await DeliveryRepository.from_session(session).start(
        {
            "case_no": case_no,
            "step_key": DELIVERY_STEP,
            "step_name": DELIVERY_STEP_NAME,
            "item_code": item_code,
            "org_code": org_code,
            "region_code": case_no[:6],
            "decided_at": decided_at,
            "decided_on": decided_on,
            "due_date": due,
            "warn_dates": warn_dates,
            "default_warn_days": supervision.step_warn_days,
            "most": settings.limit_days,
            "default_by": "默认（未选择送达方式）",
            "description": f"结果待送达，送达期限 {due}",
        }
    )


async def _staff_delivery(
    session: AsyncSession, case_no: str, principal: Principal
) -> tuple[Case, CaseDelivery]:
    case = await CaseRepository.from_session(session).get_visible(case_no, handling_scope(principal))
    if case is None:
        raise DeliveryCaseNotFound(f"办件 {case_no} 不存在")
    delivery = await DeliveryRepository.from_session(session).get(case.case_no, for_update=True)
    if delivery is None:
        raise DeliveryNotFound(f"办件 {case.case_no} 尚未确定送达方式")
    if case.status != COMPLETED or delivery.status == AWAITING:
        raise ResultNotReady(f"办件 {case.case_no} 尚未作出决定")
    if delivery.status == DELIVERED:
        raise DeliveryClosed(f"办件 {case.case_no} 的结果已送达")
    return case, delivery


async def _finish(session: AsyncSession, delivery: CaseDelivery, now: datetime) -> None:
    on_time = delivery.due_date is None or local_date(now) <= delivery.due_date
    await DeliveryRepository.from_session(session).update(
        delivery, update_dict={"status": DELIVERED, "delivered_at": now, "on_time": on_time}
    )
    await deadlines.end_step_clock(session, delivery.case_no, DELIVERY_STEP, now)


async def dispatch(
    session: AsyncSession, case_no: str, principal: Principal, *, courier: Courier
) -> DeliveryView:
    """证照寄送 Post the result: the courier's tracking number; a fee due before delivery must be paid."""
    case, delivery = await _staff_delivery(session, case_no, principal)
    if delivery.method != POST:
        raise WrongDeliveryMethod(f"办件 {case.case_no} 选择的是{METHOD_NAMES[delivery.method]}")
    if delivery.status == DISPATCHED:
        raise DeliveryClosed(f"办件 {case.case_no} 的结果已寄出（运单号 {delivery.tracking_no}）")
    if case.outcome == "approved":
        await payment_service.require_paid_before_delivery(session, case)
    tracking_no = await courier.create_waybill(
        recipient=delivery.recipient_name or "",
        phone=delivery.recipient_phone or "",
        address=delivery.address or "",
        reference=case.case_no,
    )
    now = utcnow()
    repository = DeliveryRepository.from_session(session)
    await repository.update(
        delivery,
        update_dict={
            "status": DISPATCHED,
            "courier": courier.name,
            "tracking_no": tracking_no,
            "dispatched_at": now,
        },
    )
    await _event(session, case.case_no, "dispatched", f"已交寄，运单号 {tracking_no}", principal.name, now)
    log.info("result dispatched", extra={"case_no": case.case_no, "tracking_no": tracking_no})
    return DeliveryView.of(delivery, await repository.events(case.case_no))


async def hand_over(
    session: AsyncSession, case_no: str, principal: Principal, *, collected_by: str
) -> DeliveryView:
    """现场递交 The applicant collects the result at the window; a fee due before delivery must be paid."""
    case, delivery = await _staff_delivery(session, case_no, principal)
    if delivery.method != WINDOW:
        raise WrongDeliveryMethod(f"办件 {case.case_no} 选择的是{METHOD_NAMES[delivery.method]}")
    if case.outcome == "approved":
        await payment_service.require_paid_before_delivery(session, case)
    now = utcnow()
    await _finish(session, delivery, now)
    await _event(
        session, case.case_no, "picked_up", f"窗口领取，领取人 {collected_by[:1]}*", principal.name, now
    )
    repository = DeliveryRepository.from_session(session)
    return DeliveryView.of(delivery, await repository.events(case.case_no))


async def track(
    session: AsyncSession, case_no: str, principal: Principal, *, kind: str, description: str
) -> DeliveryView:
    """物流轨迹 A courier scan; 已签收 (delivered) completes the delivery and stops its clock."""
    case, delivery = await _staff_delivery(session, case_no, principal)
    if delivery.status != DISPATCHED:
        raise TrackingEventRejected(f"办件 {case.case_no} 的结果尚未寄出")
    now = utcnow()
    if kind == "delivered":
        await _finish(session, delivery, now)
    await _event(session, case.case_no, kind, f"{EVENT_NAMES[kind]}：{description}", principal.name, now)
    repository = DeliveryRepository.from_session(session)
    return DeliveryView.of(delivery, await repository.events(case.case_no))


async def on_time_rates(
    session: AsyncSession, principal: Principal, *, first: date, last: date
) -> DeliveryRateReport:
    """送达及时率 per department; a supervisor sees every unit, others their own."""
    org = None if ROLE_SUPERVISOR in principal.roles else principal.org_code or ""
    rows = await DeliveryRepository.from_session(session).on_time_by_org(first=first, last=last, org_code=org)
    return DeliveryRateReport(
        first=first,
        last=last,
        rows=[
            DeliveryRateRow(
                key=r.key,
                delivered=r.delivered,
                on_time=r.on_time,
                on_time_rate=round(r.on_time / r.delivered, 4) if r.delivered else None,
            )
            for r in rows
        ],
    )
