"""Initial schema of the gateway: accounts, catalogue copy, uploads, applications, timeline, outbox, inbox.

Revision ID: 20261123_1400_gateway
Revises:
Create Date: 2026-11-23 14:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import yiwang_common.db.types

revision: str = "20261123_1400_gateway"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    # Same as yiwang_common.db.JSONType.
    return postgresql.JSONB(astext_type=sa.Text())


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("id_type", sa.String(length=10), nullable=True),
        sa.Column("id_number", sa.String(length=32), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("org_code", sa.String(length=18), nullable=True),
        sa.Column(
            "roles",
            _json(),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("account_pkey")),
        sa.UniqueConstraint("id_type", "id_number", name=op.f("account_id_type_id_number_key")),
        sa.UniqueConstraint("username", name=op.f("account_username_key")),
    )
    op.create_table(
        "application",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("applicant_id", sa.String(length=64), nullable=False),
        sa.Column(
            "applicant",
            _json(),
            nullable=False,
        ),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("item_name", sa.String(length=200), nullable=False),
        sa.Column(
            "form",
            _json(),
            nullable=False,
        ),
        sa.Column(
            "materials",
            _json(),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("case_no", sa.String(length=32), nullable=True),
        sa.Column("submitted_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column(
            "missing_materials",
            _json(),
            nullable=False,
        ),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column(
            "result",
            _json(),
            nullable=True,
        ),
        sa.Column(
            "steps",
            _json(),
            nullable=False,
        ),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("updated_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("application_pkey")),
        sa.UniqueConstraint(
            "applicant_id", "idempotency_key", name=op.f("application_applicant_id_idempotency_key_key")
        ),
        sa.UniqueConstraint("case_no", name=op.f("application_case_no_key")),
    )
    op.create_index(
        "ix_application_applicant_id_submitted_at",
        "application",
        ["applicant_id", "submitted_at"],
        unique=False,
    )
    op.create_table(
        "catalogue_item",
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("basic_code", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("item_type", sa.String(length=50), nullable=False),
        sa.Column(
            "org",
            _json(),
            nullable=False,
        ),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column(
            "service_object",
            _json(),
            nullable=False,
        ),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column(
            "legal_basis",
            _json(),
            nullable=False,
        ),
        sa.Column(
            "conditions",
            _json(),
            nullable=False,
        ),
        sa.Column(
            "materials",
            _json(),
            nullable=False,
        ),
        sa.Column(
            "limits",
            _json(),
            nullable=False,
        ),
        sa.Column(
            "form_schema",
            _json(),
            nullable=False,
        ),
        sa.Column(
            "guide",
            _json(),
            nullable=False,
        ),
        sa.Column("published_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("item_code", name=op.f("catalogue_item_pkey")),
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
        "uploaded_material",
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("uploaded_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("owner_id", "sha256", name=op.f("uploaded_material_pkey")),
    )
    op.create_table(
        "timeline_entry",
        sa.Column("seq", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column(
            "data",
            _json(),
            nullable=True,
        ),
        sa.Column("source_event_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("timeline_entry_application_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("timeline_entry_pkey")),
        sa.UniqueConstraint("source_event_id", name=op.f("timeline_entry_source_event_id_key")),
    )
    op.create_index(
        "ix_timeline_entry_application_id_seq", "timeline_entry", ["application_id", "seq"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_timeline_entry_application_id_seq", table_name="timeline_entry")
    op.drop_table("timeline_entry")
    op.drop_table("uploaded_material")
    op.drop_index(
        "ix_outbox_unpublished",
        table_name="outbox",
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.drop_table("outbox")
    op.drop_table("inbox")
    op.drop_table("catalogue_item")
    op.drop_index("ix_application_applicant_id_submitted_at", table_name="application")
    op.drop_table("application")
    op.drop_table("account")
