"""Fees (收费项目), payment orders, notifications, receipts, reconciliation, the sandbox provider's
books, and delivery of results (送达) with tracking events (ADR 0113).

Revision ID: h_pay_payment_delivery
Revises: h_import_import_jobs
Create Date: 2026-12-02 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import yiwang_common.db.types

revision: str = "h_pay_payment_delivery"
down_revision: str | None = "h_import_import_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence("payment_receipt_seq")))
    op.create_table(
        "item_fee",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.CheckConstraint("amount_fen > 0", name=op.f("item_fee_amount_positive_check")),
        sa.PrimaryKeyConstraint("id", name=op.f("item_fee_pkey")),
    )
    op.create_index(op.f("ix_item_fee_item_code"), "item_fee", ["item_code"], unique=False)
    op.create_table(
        "item_payment_rule",
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("timing", sa.String(length=20), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("item_code", name=op.f("item_payment_rule_pkey")),
    )
    op.create_table(
        "payment_notification",
        sa.Column("notification_id", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("order_no", sa.String(length=40), nullable=False),
        sa.Column("received_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("notification_id", name=op.f("payment_notification_pkey")),
    )
    op.create_index(
        op.f("ix_payment_notification_order_no"), "payment_notification", ["order_no"], unique=False
    )
    op.create_table(
        "payment_reconciliation",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("missing_on_our_side", sa.Integer(), nullable=False),
        sa.Column("missing_at_provider", sa.Integer(), nullable=False),
        sa.Column("amount_mismatch", sa.Integer(), nullable=False),
        sa.Column("our_total_fen", sa.BigInteger(), nullable=False),
        sa.Column("provider_total_fen", sa.BigInteger(), nullable=False),
        sa.Column("run_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("run_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("day", "provider", name=op.f("payment_reconciliation_pkey")),
    )
    op.create_index(
        op.f("ix_payment_reconciliation_status"), "payment_reconciliation", ["status"], unique=False
    )
    op.create_table(
        "payment_reconciliation_line",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("order_no", sa.String(length=40), nullable=True),
        sa.Column("case_no", sa.String(length=32), nullable=True),
        sa.Column("provider_txn_id", sa.String(length=64), nullable=True),
        sa.Column("our_amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("provider_amount_fen", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("payment_reconciliation_line_pkey")),
    )
    op.create_index(
        "ix_payment_reconciliation_line_day", "payment_reconciliation_line", ["provider", "day"], unique=False
    )
    op.create_table(
        "sandbox_payment",
        sa.Column("provider_order_id", sa.String(length=64), nullable=False),
        sa.Column("merchant_order_no", sa.String(length=40), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("notify_url", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("txn_id", sa.String(length=64), nullable=True),
        sa.Column("paid_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("created_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("notification", sa.Text(), nullable=True),
        sa.Column("signature", sa.String(length=200), nullable=True),
        sa.Column("notified_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("provider_order_id", name=op.f("sandbox_payment_pkey")),
        sa.UniqueConstraint("merchant_order_no", name=op.f("sandbox_payment_merchant_order_no_key")),
        sa.UniqueConstraint("txn_id", name=op.f("sandbox_payment_txn_id_key")),
    )
    op.create_index(op.f("ix_sandbox_payment_paid_on"), "sandbox_payment", ["paid_on"], unique=False)
    op.create_table(
        "case_delivery",
        sa.Column("case_no", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("recipient_name", sa.String(length=100), nullable=True),
        sa.Column("recipient_phone", sa.String(length=32), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("postcode", sa.String(length=6), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("chosen_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("chosen_by", sa.String(length=100), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("courier", sa.String(length=32), nullable=True),
        sa.Column("tracking_no", sa.String(length=64), nullable=True),
        sa.Column("dispatched_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_no"], ["case_file.case_no"], name=op.f("case_delivery_case_no_fkey"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("case_no", name=op.f("case_delivery_pkey")),
        sa.UniqueConstraint("tracking_no", name=op.f("case_delivery_tracking_no_key")),
    )
    op.create_table(
        "delivery_event",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("case_no", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_no"], ["case_file.case_no"], name=op.f("delivery_event_case_no_fkey"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("delivery_event_pkey")),
    )
    op.create_index(op.f("ix_delivery_event_case_no"), "delivery_event", ["case_no"], unique=False)
    op.create_table(
        "payment_order",
        sa.Column("order_no", sa.String(length=40), nullable=False),
        sa.Column("case_no", sa.String(length=32), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("org_code", sa.String(length=32), nullable=False),
        sa.Column("applicant_id", sa.String(length=64), nullable=False),
        sa.Column("timing", sa.String(length=20), nullable=False),
        sa.Column("lines", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("provider_order_id", sa.String(length=64), nullable=True),
        sa.Column("pay_url", sa.Text(), nullable=True),
        sa.Column("provider_txn_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("paid_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("receipt_no", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_no"], ["case_file.case_no"], name=op.f("payment_order_case_no_fkey"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("order_no", name=op.f("payment_order_pkey")),
        sa.UniqueConstraint("case_no", name=op.f("payment_order_case_no_key")),
        sa.UniqueConstraint("provider_order_id", name=op.f("payment_order_provider_order_id_key")),
        sa.UniqueConstraint("provider_txn_id", name=op.f("payment_order_provider_txn_id_key")),
        sa.UniqueConstraint("receipt_no", name=op.f("payment_order_receipt_no_key")),
    )
    op.create_index("ix_payment_order_paid_on", "payment_order", ["provider", "paid_on"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_payment_order_paid_on", table_name="payment_order")
    op.drop_table("payment_order")
    op.drop_index(op.f("ix_delivery_event_case_no"), table_name="delivery_event")
    op.drop_table("delivery_event")
    op.drop_table("case_delivery")
    op.drop_index(op.f("ix_sandbox_payment_paid_on"), table_name="sandbox_payment")
    op.drop_table("sandbox_payment")
    op.drop_index("ix_payment_reconciliation_line_day", table_name="payment_reconciliation_line")
    op.drop_table("payment_reconciliation_line")
    op.drop_index(op.f("ix_payment_reconciliation_status"), table_name="payment_reconciliation")
    op.drop_table("payment_reconciliation")
    op.drop_index(op.f("ix_payment_notification_order_no"), table_name="payment_notification")
    op.drop_table("payment_notification")
    op.drop_table("item_payment_rule")
    op.drop_index(op.f("ix_item_fee_item_code"), table_name="item_fee")
    op.drop_table("item_fee")
    op.execute(sa.schema.DropSequence(sa.Sequence("payment_receipt_seq")))
