"""Rules of fees and payment: the schedule, one order per case, notifications recorded once,
the 缴费 rule before acceptance or before delivery, receipts, and daily reconciliation."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.access import scope_of
from yiwang_common.auth import Principal
from yiwang_common.db import session_scope, utcnow
from yiwang_common.events import enqueue
from yiwang_common.masking import mask_name
from yiwang_management.case.models import COMPLETED, NOT_ACCEPTED, Case
from yiwang_management.case.repository import CaseRepository
from yiwang_management.config import PaymentSettings
from yiwang_management.db import messaging
from yiwang_management.item.repository import ItemRepository
from yiwang_management.payment import events
from yiwang_management.payment.errors import (
    CaseNotPayable,
    ItemNotFoundForFees,
    NoFeeDue,
    NotificationAmountMismatch,
    NotificationRejected,
    OrderNotFound,
    PaymentCaseNotFound,
    PaymentRequired,
    ReceiptNotIssued,
)
from yiwang_management.payment.models import (
    AMOUNT_MISMATCH,
    BALANCED,
    BEFORE_ACCEPTANCE,
    BEFORE_DELIVERY,
    MATCHED,
    MISMATCHED,
    MISSING_OURS,
    MISSING_PROVIDER,
    PAID,
    TIMING_NAMES,
    UNPAID,
    ItemFee,
    ItemPaymentRule,
    PaymentOrder,
    Reconciliation,
    ReconciliationLine,
)
from yiwang_management.payment.provider import PaymentProvider, PaymentResult, SignatureInvalid
from yiwang_management.payment.repository import FeeRepository, OrderRepository, ReconciliationRepository
from yiwang_management.payment.schemas import (
    CasePayment,
    FeeItem,
    FeeSchedule,
    FeeScheduleRequest,
    NotificationAck,
    OrderView,
    ReconciliationView,
    yuan,
)
from yiwang_management.shared import CHINA_TZ, local_date

log = logging.getLogger(__name__)


# --- the fee schedule ---------------------------------------------------------------------------


async def set_schedule(
    session: AsyncSession, item_code: str, body: FeeScheduleRequest, principal: Principal
) -> FeeSchedule:
    """Replace an item's 收费项目 and 缴费规则 (admin); existing orders keep what they were made with."""
    if await ItemRepository(session).get(item_code) is None:
        raise ItemNotFoundForFees(f"事项 {item_code} 不存在")
    fees = [
        ItemFee(item_code=item_code, position=i, name=f.name, amount_fen=f.amount_fen, basis=f.basis)
        for i, f in enumerate(body.fees)
    ]
    rule = (
        ItemPaymentRule(
            item_code=item_code, timing=body.timing, updated_by=principal.name, updated_at=utcnow()
        )
        if fees
        else None
    )
    await FeeRepository.from_session(session).replace(item_code, fees, rule)
    log.info("fee schedule set", extra={"item_code": item_code, "fees": len(fees), "by": principal.sub})
    return await schedule(session, item_code)


async def schedule(session: AsyncSession, item_code: str) -> FeeSchedule:
    """收费标准 of an item (public, as the guide shows it)."""
    repository = FeeRepository.from_session(session)
    fees = [FeeItem.model_validate(f) for f in await repository.of_item(item_code)]
    rule = await repository.rule(item_code) if fees else None
    total = sum(f.amount_fen for f in fees)
    return FeeSchedule(
        item_code=item_code,
        charged=bool(fees),
        timing=rule.timing if rule else None,
        timing_name=TIMING_NAMES[rule.timing] if rule else None,
        fees=fees,
        total_fen=total,
        total=yuan(total),
    )


# --- cases and their orders ---------------------------------------------------------------------


async def visible_case(session: AsyncSession, case_no: str, principal: Principal) -> Case:
    """The applicant's own case, or one the staff member may read; others look absent."""
    scope = scope_of(principal)
    repository = CaseRepository.from_session(session)
    if scope.applicant_ids:
        case = await repository.get(case_no)
        if case is not None and case.applicant_id in scope.applicant_ids:
            return case
    else:
        found = await repository.get_visible(case_no, scope)
        if found is not None:
            return found
    raise PaymentCaseNotFound(f"办件 {case_no} 不存在")


async def case_payment(
    session: AsyncSession,
    case_no: str,
    principal: Principal,
    *,
    provider: PaymentProvider | None = None,
    source: str,
) -> CasePayment:
    """What the case owes; with ``provider`` an unpaid order is first checked with the provider
    (主动查询: the applicant is back from the cashier before the notification arrived)."""
    case = await visible_case(session, case_no, principal)
    fees = await schedule(session, case.item_code)
    order = await OrderRepository.from_session(session).of_case(case.case_no)
    if order is not None and order.status == UNPAID and provider is not None and order.provider_order_id:
        result = await provider.query(order.provider_order_id)
        if result is not None and result.status == PAID:
            await record_payment(session, result, provider_name=provider.name, via="query", source=source)
            order = await OrderRepository.from_session(session).of_case(case.case_no)
    return CasePayment(
        case_no=case.case_no,
        schedule=fees,
        order=OrderView.of(order) if order is not None else None,
        paid=not fees.charged if order is None else order.status == PAID,
    )


async def open_order(
    session: AsyncSession,
    case_no: str,
    principal: Principal,
    *,
    provider: PaymentProvider,
    settings: PaymentSettings,
    source: str,
) -> OrderView:
    """去缴费 The case's order (made once, from the schedule) and the provider's cashier page."""
    case = await visible_case(session, case_no, principal)
    if case.status == NOT_ACCEPTED or (case.status == COMPLETED and case.outcome != "approved"):
        raise CaseNotPayable(f"办件 {case.case_no} 无需缴费")
    fees = await schedule(session, case.item_code)
    orders = OrderRepository.from_session(session)
    order = await orders.of_case(case.case_no, for_update=True)
    if order is None:
        if not fees.charged or fees.timing is None:
            raise NoFeeDue(f"事项「{case.item_name}」不收费")
        order, made_now = await orders.add(
            PaymentOrder(
                order_no=f"ZF{case.case_no}",
                case_no=case.case_no,
                item_code=case.item_code,
                org_code=case.org_code,
                applicant_id=case.applicant_id,
                timing=fees.timing,
                lines=[f.model_dump() for f in fees.fees],
                amount_fen=fees.total_fen,
                status=UNPAID,
                provider=provider.name,
                created_at=utcnow(),
            )
        )
        if made_now:
            # 缴费订单已生成 commits with the order; a concurrent request that lost the race adds none.
            await enqueue(
                session,
                messaging.outbox,
                events.order_created_event(order, case.application_id, source=source),
            )
            log.info("payment order opened", extra={"case_no": case.case_no, "amount_fen": fees.total_fen})
    if order.status == UNPAID and order.provider_order_id is None:
        made = await provider.create_order(
            merchant_order_no=order.order_no,
            amount_fen=order.amount_fen,
            subject=f"{case.item_name}（{case.case_no}）",
            return_url=settings.return_url.format(case_no=case.case_no),
        )
        await orders.update(
            order, update_dict={"provider_order_id": made.provider_order_id, "pay_url": made.pay_url}
        )
    return OrderView.of(order)


async def record_payment(
    session: AsyncSession, result: PaymentResult, *, provider_name: str, via: str, source: str
) -> bool:
    """Record a payment the provider reports; True when this call recorded it (False: already paid).

    The order row is locked, so a notification and a query racing each other record it once and
    issue one receipt. An amount that is not the order's is refused and never recorded.
    """
    orders = OrderRepository.from_session(session)
    order = await orders.get(result.merchant_order_no, for_update=True)
    if order is None or order.provider != provider_name:
        raise OrderNotFound(f"缴费订单 {result.merchant_order_no} 不存在")
    if result.amount_fen != order.amount_fen:
        log.error(
            "payment amount differs from the order",
            extra={"order_no": order.order_no, "order_fen": order.amount_fen, "paid_fen": result.amount_fen},
        )
        raise NotificationAmountMismatch(
            f"订单 {order.order_no} 应缴 {yuan(order.amount_fen)}，渠道通知 {yuan(result.amount_fen)}"
        )
    if order.status == PAID or result.status != PAID or result.paid_at is None:
        return False
    serial = await orders.next_receipt_serial()
    paid_on = local_date(result.paid_at)
    await orders.update(
        order,
        update_dict={
            "status": PAID,
            "paid_at": result.paid_at,
            "paid_on": paid_on,
            "provider_txn_id": result.txn_id,
            "receipt_no": f"PJ{order.case_no[:6]}{paid_on:%Y}{serial:010d}",
        },
    )
    case = await CaseRepository.from_session(session).get(order.case_no)
    assert case is not None  # the order's foreign key
    await enqueue(
        session, messaging.outbox, events.order_paid_event(order, case.application_id, via=via, source=source)
    )
    log.info("payment recorded", extra={"order_no": order.order_no, "via": via, "txn_id": result.txn_id})
    return True


async def receive_notification(
    session: AsyncSession, body: bytes, headers: Any, *, provider: PaymentProvider, source: str
) -> NotificationAck:
    """支付结果通知: verify the signature, keep the notification once, record the payment once."""
    try:
        result = provider.verify_notification(body, headers)
    except SignatureInvalid as exc:
        log.warning("payment notification rejected", extra={"provider": provider.name, "reason": str(exc)})
        raise NotificationRejected(f"支付结果通知验签失败：{exc}") from exc
    assert result.notification_id is not None
    first = await OrderRepository.from_session(session).record_notification(
        {
            "notification_id": result.notification_id,
            "provider": provider.name,
            "order_no": result.merchant_order_no[:40],
            "received_at": utcnow(),
            "applied": False,
        }
    )
    if not first:
        return NotificationAck(duplicate=True)
    applied = await record_payment(
        session, result, provider_name=provider.name, via="notification", source=source
    )
    if applied:
        await OrderRepository.from_session(session).mark_applied(result.notification_id)
    return NotificationAck(duplicate=not applied)


async def require_paid(session: AsyncSession, case: Any, timing: str) -> None:
    """Raise :class:`PaymentRequired` when the case's item wants its fee paid before ``timing``."""
    if await FeeRepository.from_session(session).unpaid_before(case.item_code, case.case_no, timing):
        refuse_unpaid(case, timing)


def refuse_unpaid(case: Any, timing: str) -> None:
    """Raise :class:`PaymentRequired`: the case's fee due before ``timing`` is unpaid."""
    step = "受理" if timing == BEFORE_ACCEPTANCE else "送达"
    raise PaymentRequired(f"事项「{case.item_name}」须{TIMING_NAMES[timing]}：申请人缴费后方可{step}")


async def require_paid_before_delivery(session: AsyncSession, case: Any) -> None:
    """送达前缴费: the result is not handed over or posted until paid."""
    await require_paid(session, case, BEFORE_DELIVERY)


# --- receipts -----------------------------------------------------------------------------------


async def receipt(session: AsyncSession, case_no: str, principal: Principal) -> tuple[PaymentOrder, Case]:
    """The paid order of a case and the case, for its 电子票据."""
    case = await visible_case(session, case_no, principal)
    order = await OrderRepository.from_session(session).of_case(case.case_no)
    if order is None or order.status != PAID or order.receipt_no is None:
        raise ReceiptNotIssued(f"办件 {case.case_no} 尚未缴费")
    return order, case


def receipt_pdf(order: PaymentOrder, case: Case, *, font: Path, verify_url: str | None = None) -> bytes:
    """电子票据 (政府非税收入电子票据 as the sandbox issues it): number, payer, lines, total."""
    from yiwang_common.documents import cjk_pdf, paragraph, qr_image

    pdf = cjk_pdf(font, title=f"电子票据 {order.receipt_no}", creator="一网 yiwang 缴费")
    pdf.add_page()
    paragraph(pdf, "政务服务缴费电子票据", size=18, height=12, align="C")
    paragraph(pdf, f"票据号码：{order.receipt_no}", size=11)
    paid_at = order.paid_at.astimezone(CHINA_TZ) if order.paid_at else None
    payer = mask_name(
        str(case.applicant.get("name", "")), kind=str(case.applicant.get("kind", "natural_person"))
    )
    for label, value in (
        ("交款人", payer or ""),
        ("办件编号", case.case_no),
        ("事项", case.item_name),
        ("收款单位", case.org_name),
        ("缴费订单", order.order_no),
        ("渠道交易号", order.provider_txn_id or ""),
        ("缴费时间", f"{paid_at:%Y-%m-%d %H:%M:%S}（北京时间）" if paid_at else ""),
    ):
        paragraph(pdf, f"{label}：{value}")
    paragraph(pdf, "收费项目：", height=9)
    for line in order.lines:
        paragraph(pdf, f"{line['name']}　{yuan(int(line['amount_fen']))}　依据：{line['basis']}", indent=6)
    paragraph(pdf, f"合计：{yuan(order.amount_fen)}（{order.amount_fen} 分）", size=13, height=10)
    if verify_url:
        qr_image(pdf, verify_url, x=160, y=20, size=30)
    return bytes(pdf.output())


# --- reconciliation -----------------------------------------------------------------------------


async def reconcile(
    session: AsyncSession, day: date, *, provider: PaymentProvider, by: str
) -> ReconciliationView:
    """对账 Match our paid orders of ``day`` with the provider's statement of that day.

    Every line is one of: 一致 matched, 我方无记录 missing on our side (the provider took a payment
    we have not recorded), 渠道无记录 missing at the provider (we recorded a payment the
    provider's statement does not have), 金额不一致 amount mismatch. Any line but a match makes
    the day 存在差异: logged as an error, kept for supervision (the record lists with
    ``status=mismatched``). Running a day again replaces its record.
    """
    statement = await provider.statement(day)
    orders = OrderRepository.from_session(session)
    ours = {o.order_no: o for o in await orders.paid_on(provider.name, day)}
    theirs = {line.merchant_order_no: line for line in statement}
    elsewhere = {o.order_no: o for o in await orders.by_order_nos([n for n in theirs if n not in ours])}
    lines: list[ReconciliationLine] = []

    def line(
        kind: str, order_no: str, order: PaymentOrder | None, txn: str | None, provider_fen: int | None
    ) -> None:
        lines.append(
            ReconciliationLine(
                day=day,
                provider=provider.name,
                kind=kind,
                order_no=order_no,
                case_no=order.case_no if order else None,
                provider_txn_id=txn,
                our_amount_fen=order.amount_fen if order and order.status == PAID else None,
                provider_amount_fen=provider_fen,
            )
        )

    for order_no, item in sorted(theirs.items()):
        order = ours.get(order_no)
        if order is None:
            line(MISSING_OURS, order_no, elsewhere.get(order_no), item.txn_id, item.amount_fen)
        elif order.amount_fen != item.amount_fen:
            line(AMOUNT_MISMATCH, order_no, order, item.txn_id, item.amount_fen)
        else:
            line(MATCHED, order_no, order, item.txn_id, item.amount_fen)
    for order_no, order in sorted(ours.items()):
        if order_no not in theirs:
            line(MISSING_PROVIDER, order_no, order, order.provider_txn_id, None)
    counts = {
        kind: sum(1 for x in lines if x.kind == kind)
        for kind in (MATCHED, MISSING_OURS, MISSING_PROVIDER, AMOUNT_MISMATCH)
    }
    mismatched = len(lines) - counts[MATCHED]
    record = Reconciliation(
        day=day,
        provider=provider.name,
        status=MISMATCHED if mismatched else BALANCED,
        matched=counts[MATCHED],
        missing_on_our_side=counts[MISSING_OURS],
        missing_at_provider=counts[MISSING_PROVIDER],
        amount_mismatch=counts[AMOUNT_MISMATCH],
        our_total_fen=sum(o.amount_fen for o in ours.values()),
        provider_total_fen=sum(x.amount_fen for x in statement),
        run_at=utcnow(),
        run_by=by[:100],
    )
    await ReconciliationRepository.from_session(session).replace(record, lines)
    for entry in lines:
        if entry.kind != MATCHED:
            log.error(
                "reconciliation mismatch",
                extra={
                    "day": day.isoformat(),
                    "provider": provider.name,
                    "kind": entry.kind,
                    "order_no": entry.order_no,
                    "our_amount_fen": entry.our_amount_fen,
                    "provider_amount_fen": entry.provider_amount_fen,
                },
            )
    log.info("reconciliation", extra={"day": day.isoformat(), "provider": provider.name, **counts})
    return ReconciliationView.of(record, lines)


async def reconciliation(session: AsyncSession, provider_name: str, day: date) -> ReconciliationView | None:
    """A day's record with its lines."""
    repository = ReconciliationRepository.from_session(session)
    record = await repository.get(provider_name, day)
    if record is None:
        return None
    return ReconciliationView.of(record, await repository.lines(provider_name, day))


async def reconciliations(
    session: AsyncSession, *, status: str | None, offset: int, limit: int
) -> tuple[Sequence[ReconciliationView], int]:
    """Records newest first (``status='mismatched'``: what supervision must look at)."""
    records, total = await ReconciliationRepository.from_session(session).list(
        status=status, offset=offset, limit=limit
    )
    return [ReconciliationView.of(r) for r in records], total


async def reconcile_previous_day(
    sessionmaker: async_sessionmaker[AsyncSession], *, provider: PaymentProvider, today: date
) -> ReconciliationView | None:
    """每日对账 The worker reconciles yesterday once (one worker, under an advisory lock); None when
    it is done already or another worker is at it. A later run through the API replaces it."""
    day = today - timedelta(days=1)
    async with session_scope(sessionmaker) as session:
        records = ReconciliationRepository.from_session(session)
        if not await records.try_lock() or await records.get(provider.name, day) is not None:
            return None
        return await reconcile(session, day, provider=provider, by="每日对账（worker）")
