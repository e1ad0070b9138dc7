"""Initial schema: item catalogue, cases, case steps, the 办件编号 sequence, outbox and inbox.

Revision ID: 5f181e966fb2
Revises:
Create Date: 2026-11-23 14:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import yiwang_common.db.types

revision: str = "5f181e966fb2"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def json_type() -> sa.types.TypeEngine[Any]:
    """``yiwang_common.db.JSONType`` as it was when this revision was written."""
    return postgresql.JSONB(astext_type=sa.Text())


def upgrade() -> None:
    op.create_table(
        "case_file",
        sa.Column("case_no", sa.String(length=32), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("item_name", sa.String(length=200), nullable=False),
        sa.Column("org_code", sa.String(length=32), nullable=False),
        sa.Column("org_name", sa.String(length=200), nullable=False),
        sa.Column("applicant_id", sa.String(length=64), nullable=False),
        sa.Column(
            "applicant",
            json_type(),
            nullable=False,
        ),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column(
            "form",
            json_type(),
            nullable=False,
        ),
        sa.Column(
            "materials",
            json_type(),
            nullable=False,
        ),
        sa.Column(
            "required_materials",
            json_type(),
            nullable=False,
        ),
        sa.Column("statutory_limit_days", sa.Integer(), nullable=False),
        sa.Column("promised_limit_days", sa.Integer(), nullable=False),
        sa.Column(
            "missing_materials",
            json_type(),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("submitted_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("registered_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("supplement_notice_no", sa.String(length=80), nullable=True),
        sa.Column("supplement_notice_text", sa.Text(), nullable=True),
        sa.Column("supplement_requested_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column("last_supplemented_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column("acceptance_notice_no", sa.String(length=80), nullable=True),
        sa.Column("accepted_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column("clock_start", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("statutory_due_date", sa.Date(), nullable=True),
        sa.Column("rejection_notice_no", sa.String(length=80), nullable=True),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("rejected_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column(
            "decision",
            json_type(),
            nullable=True,
        ),
        sa.Column(
            "licence",
            json_type(),
            nullable=True,
        ),
        sa.Column("completed_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("working_days_used", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("case_no", name=op.f("case_file_pkey")),
        sa.UniqueConstraint("application_id", name=op.f("case_file_application_id_key")),
    )
    op.create_index(
        "ix_case_file_org_code_registered_at", "case_file", ["org_code", "registered_at"], unique=False
    )
    op.create_index(
        "ix_case_file_org_code_status_registered_at",
        "case_file",
        ["org_code", "status", "registered_at"],
        unique=False,
    )
    op.create_table(
        "case_sequence",
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("region_code", "day", name=op.f("case_sequence_pkey")),
    )
    op.create_table(
        "inbox",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("processed_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("inbox_pkey")),
    )
    op.create_table(
        "item",
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("basic_code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("item_type", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("org_name", sa.String(length=200), nullable=False),
        sa.Column("org_code", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column(
            "service_object",
            json_type(),
            nullable=False,
        ),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column(
            "legal_basis",
            json_type(),
            nullable=False,
        ),
        sa.Column(
            "conditions",
            json_type(),
            nullable=False,
        ),
        sa.Column(
            "materials",
            json_type(),
            nullable=False,
        ),
        sa.Column("statutory_limit_days", sa.Integer(), nullable=False),
        sa.Column("promised_limit_days", sa.Integer(), nullable=False),
        sa.Column("case_type", sa.String(length=1), nullable=False),
        sa.Column("fee", sa.String(length=500), nullable=False),
        sa.Column(
            "form_schema",
            json_type(),
            nullable=False,
        ),
        sa.Column(
            "guide",
            json_type(),
            nullable=False,
        ),
        sa.Column("published_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("item_code", name=op.f("item_pkey")),
    )
    op.create_index(op.f("ix_item_org_code"), "item", ["org_code"], unique=False)
    op.create_table(
        "outbox",
        sa.Column("seq", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("published_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("outbox_pkey")),
        sa.UniqueConstraint("event_id", name=op.f("outbox_event_id_key")),
    )
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["seq"],
        unique=False,
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_table(
        "case_step",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("case_no", sa.String(length=32), nullable=False),
        sa.Column("step_key", sa.String(length=64), nullable=False),
        sa.Column("step_name", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("handler_id", sa.String(length=64), nullable=False),
        sa.Column("handler_name", sa.String(length=100), nullable=False),
        sa.Column("opinion", sa.Text(), nullable=False),
        sa.Column("org_name", sa.String(length=200), nullable=False),
        sa.Column("org_code", sa.String(length=32), nullable=False),
        sa.Column("started_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=1), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_no"], ["case_file.case_no"], name=op.f("case_step_case_no_fkey"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("case_step_pkey")),
        sa.UniqueConstraint(
            "case_no", "step_key", "ended_at", name=op.f("case_step_case_no_step_key_ended_at_key")
        ),
    )


def downgrade() -> None:
    op.drop_table("case_step")
    op.drop_index(
        "ix_outbox_unpublished",
        table_name="outbox",
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.drop_table("outbox")
    op.drop_index(op.f("ix_item_org_code"), table_name="item")
    op.drop_table("item")
    op.drop_table("inbox")
    op.drop_table("case_sequence")
    op.drop_index("ix_case_file_org_code_status_registered_at", table_name="case_file")
    op.drop_index("ix_case_file_org_code_registered_at", table_name="case_file")
    op.drop_table("case_file")
