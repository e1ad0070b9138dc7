"""Outgoing events of payment (缴费): builders of envelopes, nothing else (ADR 0117)."""

from __future__ import annotations

import uuid

from yiwang_common.contracts.management import PaymentFeeLine, PaymentOrderCreated, PaymentOrderPaid
from yiwang_common.events import EventEnvelope, make_event
from yiwang_management.payment.models import PaymentOrder


def _envelope(data: PaymentOrderCreated | PaymentOrderPaid, *, source: str) -> EventEnvelope:
    return make_event(data, source=source, subject=data.case_no, correlation_id=data.case_no)


def order_created_event(order: PaymentOrder, application_id: uuid.UUID, *, source: str) -> EventEnvelope:
    """缴费订单已生成."""
    data = PaymentOrderCreated(
        order_no=order.order_no,
        case_no=order.case_no,
        application_id=application_id,
        applicant_id=order.applicant_id,
        item_code=order.item_code,
        org_code=order.org_code,
        timing=order.timing,
        amount_fen=order.amount_fen,
        lines=[PaymentFeeLine.model_validate(line) for line in order.lines],
        provider=order.provider,
        created_at=order.created_at,
    )
    return _envelope(data, source=source)


def order_paid_event(
    order: PaymentOrder, application_id: uuid.UUID, *, via: str, source: str
) -> EventEnvelope:
    """缴费成功, with the receipt number just issued."""
    assert order.receipt_no is not None and order.paid_at is not None
    data = PaymentOrderPaid(
        order_no=order.order_no,
        case_no=order.case_no,
        application_id=application_id,
        applicant_id=order.applicant_id,
        amount_fen=order.amount_fen,
        provider=order.provider,
        provider_txn_id=order.provider_txn_id,
        receipt_no=order.receipt_no,
        paid_at=order.paid_at,
        recorded_via=via,
    )
    return _envelope(data, source=source)
