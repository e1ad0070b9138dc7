"""ORM models of fees (收费项目), payment orders (缴费订单), receipts (电子票据) and daily
reconciliation (对账), plus the sandbox provider's own books (模拟支付渠道)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, Sequence, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_common.db import JSONType, TZDateTime
from yiwang_management.db import Base

#: 缴费时点: 受理前缴费 (the case is not accepted until paid) or 送达前缴费 (the result is not
#: handed over or posted until paid).
BEFORE_ACCEPTANCE = "before_acceptance"
BEFORE_DELIVERY = "before_delivery"
TIMING_NAMES = {BEFORE_ACCEPTANCE: "受理前缴费", BEFORE_DELIVERY: "送达前缴费"}

#: 订单状态.
UNPAID, PAID = "unpaid", "paid"
ORDER_STATUS_NAMES = {UNPAID: "待缴费", PAID: "已缴费"}

#: 对账结果 of a day, and the kinds of its lines.
BALANCED, MISMATCHED = "balanced", "mismatched"
MATCHED = "matched"
MISSING_OURS = "missing_on_our_side"
MISSING_PROVIDER = "missing_at_provider"
AMOUNT_MISMATCH = "amount_mismatch"
LINE_NAMES = {
    MATCHED: "一致",
    MISSING_OURS: "我方无记录（渠道已收款）",
    MISSING_PROVIDER: "渠道无记录（我方已记收款）",
    AMOUNT_MISMATCH: "金额不一致",
}

RECEIPT_SEQUENCE = Sequence("payment_receipt_seq", metadata=Base.metadata)


class ItemFee(Base):
    """收费项目 One fee of an item: name, amount in fen (分, an integer), legal basis (收费依据).

    Amounts come only from this schedule (seed rules §10.2: no free-text fees); the catalogue's
    收费标准 text stays what the guide shows.
    """

    __tablename__ = "item_fee"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(BigInteger(), primary_key=True)
    item_code: Mapped[str] = mapped_column(String(64), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    amount_fen: Mapped[int] = mapped_column(BigInteger())
    basis: Mapped[str] = mapped_column(Text)


class ItemPaymentRule(Base):
    """缴费规则 When an item's fees are due: before acceptance or before delivery of the result."""

    __tablename__ = "item_payment_rule"

    item_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    timing: Mapped[str] = mapped_column(String(20))
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(TZDateTime)


class PaymentOrder(Base):
    """缴费订单 What a case owes, as the fee schedule said when the order was made; one per case."""

    __tablename__ = "payment_order"
    __table_args__ = (Index("ix_payment_order_paid_on", "provider", "paid_on"),)

    order_no: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_no: Mapped[str] = mapped_column(ForeignKey("case_file.case_no", ondelete="CASCADE"), unique=True)
    item_code: Mapped[str] = mapped_column(String(64))
    org_code: Mapped[str] = mapped_column(String(32))
    applicant_id: Mapped[str] = mapped_column(String(64))
    timing: Mapped[str] = mapped_column(String(20))
    #: The fee lines: name, amount_fen, basis.
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    amount_fen: Mapped[int] = mapped_column(BigInteger())
    status: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(32))
    provider_order_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    pay_url: Mapped[str | None] = mapped_column(Text)
    provider_txn_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    #: The Asia/Shanghai date of the payment: the day whose statement it belongs to.
    paid_on: Mapped[date | None] = mapped_column(Date)
    #: 电子票据号, issued once when the payment is recorded.
    receipt_no: Mapped[str | None] = mapped_column(String(32), unique=True)


class PaymentNotification(Base):
    """支付结果通知 Each verified notification once (the provider repeats them until answered)."""

    __tablename__ = "payment_notification"

    notification_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    order_no: Mapped[str] = mapped_column(String(40), index=True)
    received_at: Mapped[datetime] = mapped_column(TZDateTime)
    #: True when this notification recorded the payment (False: it was paid already).
    applied: Mapped[bool]


class Reconciliation(Base):
    """对账记录 One provider's day matched against our records (re-running a day replaces it)."""

    __tablename__ = "payment_reconciliation"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    matched: Mapped[int]
    missing_on_our_side: Mapped[int]
    missing_at_provider: Mapped[int]
    amount_mismatch: Mapped[int]
    our_total_fen: Mapped[int] = mapped_column(BigInteger())
    provider_total_fen: Mapped[int] = mapped_column(BigInteger())
    run_at: Mapped[datetime] = mapped_column(TZDateTime)
    run_by: Mapped[str] = mapped_column(String(100))


class ReconciliationLine(Base):
    """对账明细 One order or provider transaction of a reconciled day and how it matched."""

    __tablename__ = "payment_reconciliation_line"
    __table_args__ = (Index("ix_payment_reconciliation_line_day", "provider", "day"),)

    id: Mapped[int] = mapped_column(BigInteger(), primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    provider: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(24))
    order_no: Mapped[str | None] = mapped_column(String(40))
    case_no: Mapped[str | None] = mapped_column(String(32))
    provider_txn_id: Mapped[str | None] = mapped_column(String(64))
    our_amount_fen: Mapped[int | None] = mapped_column(BigInteger())
    provider_amount_fen: Mapped[int | None] = mapped_column(BigInteger())


class SandboxTransaction(Base):
    """模拟支付渠道 The sandbox provider's own books: what a real provider keeps on its side.

    Only :mod:`yiwang_management.payment.sandbox` touches it, in units of work of its own, as a
    remote provider would commit apart from us.
    """

    __tablename__ = "sandbox_payment"

    provider_order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    merchant_order_no: Mapped[str] = mapped_column(String(40), unique=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger())
    subject: Mapped[str] = mapped_column(String(200))
    notify_url: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    txn_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    paid_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    paid_on: Mapped[date | None] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    #: The signed notification as sent (body and signature header), resent until answered.
    notification: Mapped[str | None] = mapped_column(Text)
    signature: Mapped[str | None] = mapped_column(String(200))
    notified_at: Mapped[datetime | None] = mapped_column(TZDateTime)
