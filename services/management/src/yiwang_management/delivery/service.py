"""Rules of delivery (送达): the applicant's choice, a limit of five working days from the
decision supervised like any step, dispatch with a courier's tracking number, tracking events,
hand-over at the window, and no result leaving before a fee due before delivery is paid."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.access import handling_scope
from yiwang_common.auth import ROLE_SUPERVISOR, Principal
from yiwang_common.calendar import WorkingDayCalendar
from yiwang_common.db import utcnow
from yiwang_common.events import enqueue
from yiwang_common.masking import mask_name
from yiwang_management.case.models import COMPLETED, NOT_ACCEPTED, Case
from yiwang_management.case.repository import CaseRepository
from yiwang_management.config import DeliverySettings, SupervisionSettings
from yiwang_management.db import messaging
from yiwang_management.delivery import events
from yiwang_management.delivery.courier import Courier
from yiwang_management.delivery.errors import (
    DeliveryCaseNotFound,
    DeliveryClosed,
    DeliveryNotFound,
    ResultNotReady,
    TrackingEventRejected,
    TrackingNumberTaken,
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
    courier_name,
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
    session: AsyncSession, case_no: str, principal: Principal, body: DeliveryChoice, *, source: str
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
    await enqueue(
        session,
        messaging.outbox,
        events.arranged_event(case, delivery, at=now, by=principal.name, source=source),
    )
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
    session: AsyncSession,
    case_no: str,
    principal: Principal,
    *,
    courier: Courier,
    source: str,
    waybill: tuple[str, str] | None = None,
) -> DeliveryView:
    """证照寄送 Post the result: the courier's tracking number; a fee due before delivery must be paid.

    ``waybill`` (courier code, tracking number) is a waybill the window filled in by hand; without
    it the courier interface books one and issues the number.
    """
    case, delivery = await _staff_delivery(session, case_no, principal)
    if delivery.method != POST:
        raise WrongDeliveryMethod(f"办件 {case.case_no} 选择的是{METHOD_NAMES[delivery.method]}")
    if delivery.status == DISPATCHED:
        raise DeliveryClosed(f"办件 {case.case_no} 的结果已寄出（运单号 {delivery.tracking_no}）")
    if case.outcome == "approved":
        await payment_service.require_paid_before_delivery(session, case)
    repository = DeliveryRepository.from_session(session)
    if waybill is not None:
        carrier, tracking_no = waybill
    else:
        carrier = courier.name
        tracking_no = await courier.create_waybill(
            recipient=delivery.recipient_name or "",
            phone=delivery.recipient_phone or "",
            address=delivery.address or "",
            reference=case.case_no,
        )
    now = utcnow()
    values = {"status": DISPATCHED, "courier": carrier, "tracking_no": tracking_no, "dispatched_at": now}
    if not await repository.dispatch(delivery, values):
        raise TrackingNumberTaken(f"运单号 {tracking_no} 已用于另一件送达")
    await _event(
        session,
        case.case_no,
        "dispatched",
        f"已交寄（{courier_name(carrier)}），运单号 {tracking_no}",
        principal.name,
        now,
    )
    await enqueue(session, messaging.outbox, events.dispatched_event(case, delivery, source=source))
    log.info("result dispatched", extra={"case_no": case.case_no, "tracking_no": tracking_no})
    return DeliveryView.of(delivery, await repository.events(case.case_no))


async def hand_over(
    session: AsyncSession, case_no: str, principal: Principal, *, collected_by: str, source: str
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
    await enqueue(
        session, messaging.outbox, events.delivered_event(case, delivery, kind="picked_up", source=source)
    )
    repository = DeliveryRepository.from_session(session)
    return DeliveryView.of(delivery, await repository.events(case.case_no))


async def track(
    session: AsyncSession, case_no: str, principal: Principal, *, kind: str, description: str, source: str
) -> DeliveryView:
    """物流轨迹 A courier scan; 已签收 (delivered) completes the delivery and stops its clock."""
    case, delivery = await _staff_delivery(session, case_no, principal)
    if delivery.status != DISPATCHED:
        raise TrackingEventRejected(f"办件 {case.case_no} 的结果尚未寄出")
    now = utcnow()
    if kind == "delivered":
        await _finish(session, delivery, now)
    await _event(session, case.case_no, kind, f"{EVENT_NAMES[kind]}：{description}", principal.name, now)
    envelope = (
        events.delivered_event(case, delivery, kind="delivered", source=source)
        if kind == "delivered"
        else events.tracking_event(case, delivery, kind=kind, description=description, at=now, source=source)
    )
    await enqueue(session, messaging.outbox, envelope)
    repository = DeliveryRepository.from_session(session)
    return DeliveryView.of(delivery, await repository.events(case.case_no))


@dataclass(frozen=True)
class BoardRow:
    """One line of the 送达工作台."""

    delivery: DeliveryView
    item_name: str
    applicant_name: str | None
    outcome: str | None
    level: str | None
    level_name: str | None


LEVEL_NAMES = {"yellow": "预警", "red": "超时"}


def delivery_level(today: date, due: date | None, warn: date | None) -> str | None:
    """yellow (预警) from the clock's warning date, red (超时) after the due date, as the sweep raises them."""
    if due is not None and today > due:
        return "red"
    if warn is not None and today >= warn:
        return "yellow"
    return None


async def board(
    session: AsyncSession, principal: Principal, *, status: str | None, today: date, limit: int = 200
) -> list[BoardRow]:
    """送达工作台 of the staff member's unit: results awaiting hand-over or on their way."""
    rows = await DeliveryRepository.from_session(session).board(
        handling_scope(principal), status=status, limit=limit
    )
    out = []
    for row in rows:
        delivery: CaseDelivery = row[0]
        level = delivery_level(today, delivery.due_date, row.warn_date)
        applicant = row.applicant or {}
        out.append(
            BoardRow(
                delivery=DeliveryView.of(delivery),
                item_name=row.item_name,
                applicant_name=mask_name(
                    str(applicant.get("name", "")), kind=str(applicant.get("kind", "natural_person"))
                ),
                outcome=row.outcome,
                level=level,
                level_name=LEVEL_NAMES.get(level or ""),
            )
        )
    return out


async def staff_view(session: AsyncSession, case_no: str, principal: Principal) -> tuple[Case, DeliveryView]:
    """A case's delivery for the staff who hand it over or post it (their unit's cases only)."""
    case = await CaseRepository.from_session(session).get_visible(case_no, handling_scope(principal))
    if case is None:
        raise DeliveryCaseNotFound(f"办件 {case_no} 不存在")
    repository = DeliveryRepository.from_session(session)
    delivery = await repository.get(case.case_no)
    if delivery is None:
        raise DeliveryNotFound(f"办件 {case.case_no} 尚未确定送达方式")
    return case, DeliveryView.of(delivery, await repository.events(case.case_no))


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
