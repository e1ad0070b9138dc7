"""Initial schema: materials, case library, process steps, exchange log, e-licences, outbox and inbox.

Revision ID: 5ac442dd0a05
Revises:
Create Date: 2026-11-23 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import yiwang_common.db.types

revision: str = "5ac442dd0a05"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_record",
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("case_no", sa.String(length=32), nullable=True),
        sa.Column("applicant_id", sa.String(length=64), nullable=True),
        sa.Column(
            "applicant",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
        ),
        sa.Column("item_code", sa.String(length=64), nullable=True),
        sa.Column("item_name", sa.String(length=255), nullable=True),
        sa.Column(
            "form",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
        ),
        sa.Column(
            "materials",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
        ),
        sa.Column("materials_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column(
            "supplemented_materials",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
        ),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("status_rank", sa.SmallInteger(), nullable=False),
        sa.Column("status_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column("registered_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column("rejected_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column(
            "decision",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
        ),
        sa.Column("licence_identifier", sa.String(length=128), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("completed_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column("created_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("application_id", name=op.f("case_record_pkey")),
        sa.UniqueConstraint("case_no", name=op.f("case_record_case_no_key")),
    )
    op.create_index(op.f("ix_case_record_applicant_id"), "case_record", ["applicant_id"], unique=False)
    op.create_table(
        "e_licence",
        sa.Column("identifier", sa.String(length=128), nullable=False),
        sa.Column("type_code", sa.String(length=32), nullable=False),
        sa.Column("type_name", sa.String(length=100), nullable=False),
        sa.Column("licence_no", sa.String(length=100), nullable=False),
        sa.Column("version", sa.String(length=8), nullable=False),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column("holder_code", sa.String(length=64), nullable=False),
        sa.Column("holder_code_type", sa.String(length=8), nullable=False),
        sa.Column("issuer_name", sa.String(length=200), nullable=False),
        sa.Column("issuer_code", sa.String(length=32), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("jurisdiction_code", sa.String(length=12), nullable=False),
        sa.Column("trust_level", sa.String(length=1), nullable=False),
        sa.Column("case_no", sa.String(length=32), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column(
            "data",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("registered_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("identifier", name=op.f("e_licence_pkey")),
    )
    op.create_index(op.f("ix_e_licence_case_no"), "e_licence", ["case_no"], unique=False)
    op.create_table(
        "exchange_log",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("case_no", sa.String(length=32), nullable=True),
        sa.Column("event_time", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("received_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("exchange_log_pkey")),
    )
    op.create_index(op.f("ix_exchange_log_case_no"), "exchange_log", ["case_no"], unique=False)
    op.create_table(
        "inbox",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("processed_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("inbox_pkey")),
    )
    op.create_table(
        "material",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("created_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("material_pkey")),
    )
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
        "process_step",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("case_no", sa.String(length=32), nullable=False),
        sa.Column("step_key", sa.String(length=64), nullable=False),
        sa.Column("step_name", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("handler_id", sa.String(length=64), nullable=False),
        sa.Column("handler_name", sa.String(length=100), nullable=False),
        sa.Column("opinion", sa.Text(), nullable=False),
        sa.Column("started_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column(
            "org",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=1), nullable=False),
        sa.Column("source_event_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("process_step_pkey")),
        sa.UniqueConstraint(
            "case_no", "step_key", "ended_at", name=op.f("process_step_case_no_step_key_ended_at_key")
        ),
    )
    op.create_index(
        op.f("ix_process_step_source_event_id"), "process_step", ["source_event_id"], unique=False
    )
    op.create_table(
        "material_owner",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("created_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["sha256"], ["material.sha256"], name=op.f("material_owner_sha256_fkey")),
        sa.PrimaryKeyConstraint("sha256", "owner_id", name=op.f("material_owner_pkey")),
    )


def downgrade() -> None:
    op.drop_table("material_owner")
    op.drop_index(op.f("ix_process_step_source_event_id"), table_name="process_step")
    op.drop_table("process_step")
    op.drop_index(
        "ix_outbox_unpublished",
        table_name="outbox",
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.drop_table("outbox")
    op.drop_table("material")
    op.drop_table("inbox")
    op.drop_index(op.f("ix_exchange_log_case_no"), table_name="exchange_log")
    op.drop_table("exchange_log")
    op.drop_index(op.f("ix_e_licence_case_no"), table_name="e_licence")
    op.drop_table("e_licence")
    op.drop_index(op.f("ix_case_record_applicant_id"), table_name="case_record")
    op.drop_table("case_record")
