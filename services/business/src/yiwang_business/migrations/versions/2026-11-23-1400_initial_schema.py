"""Initial schema: workflow definitions, cases, tasks, decisions, e-licences, counters, outbox, inbox.

Revision ID: b7e1d3a90c42
Revises:
Create Date: 2026-11-23 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import yiwang_common.db.types

revision: str = "b7e1d3a90c42"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = postgresql.JSONB(astext_type=sa.Text())
TZ = yiwang_common.db.types.TZDateTime(timezone=True)


def _messaging() -> None:
    op.create_table(
        "outbox",
        sa.Column("seq", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("published_at", TZ, nullable=True),
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
        "inbox",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("processed_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("inbox_pkey")),
    )


def _workflow_and_counter() -> None:
    op.create_table(
        "workflow_definition",
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("steps", JSON, nullable=False),
        sa.Column("licence_type_code", sa.String(length=21), nullable=True),
        sa.Column("licence_type_name", sa.String(length=100), nullable=True),
        sa.Column("licence_validity_days", sa.Integer(), nullable=True),
        sa.Column("decision_doc_prefix", sa.String(length=32), nullable=False),
        sa.Column("licence_fields", JSON, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("item_code", name=op.f("workflow_definition_pkey")),
    )
    op.create_table(
        "counter",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", "scope", "period", name=op.f("counter_pkey")),
    )


def _case_and_task() -> None:
    op.create_table(
        "business_case",
        sa.Column("case_no", sa.String(length=64), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("item_name", sa.String(length=500), nullable=False),
        sa.Column("org_code", sa.String(length=64), nullable=False),
        sa.Column("org_name", sa.String(length=500), nullable=False),
        sa.Column("applicant", JSON, nullable=False),
        sa.Column("form", JSON, nullable=False),
        sa.Column("materials", JSON, nullable=False),
        sa.Column("accepted_at", TZ, nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("workflow", JSON, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("decided_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("case_no", name=op.f("business_case_pkey")),
    )
    op.create_table(
        "task",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_no", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("step_key", sa.String(length=32), nullable=False),
        sa.Column("step_name", sa.String(length=50), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("org_code", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("completed_at", TZ, nullable=True),
        sa.Column("handler_id", sa.String(length=64), nullable=True),
        sa.Column("handler_name", sa.String(length=100), nullable=True),
        sa.Column("decision", sa.String(length=10), nullable=True),
        sa.Column("opinion", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["case_no"], ["business_case.case_no"], name=op.f("task_case_no_fkey")),
        sa.PrimaryKeyConstraint("id", name=op.f("task_pkey")),
        sa.UniqueConstraint("case_no", "position", name=op.f("task_case_no_position_key")),
    )
    op.create_index("ix_task_queue", "task", ["org_code", "status", "created_at"], unique=False)


def _decision_and_licence() -> None:
    op.create_table(
        "decision",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_no", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("document_no", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("decided_at", TZ, nullable=False),
        sa.Column("decider_id", sa.String(length=64), nullable=False),
        sa.Column("decider_name", sa.String(length=100), nullable=False),
        sa.Column("org_code", sa.String(length=64), nullable=False),
        sa.Column("org_name", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["case_no"], ["business_case.case_no"], name=op.f("decision_case_no_fkey")),
        sa.PrimaryKeyConstraint("id", name=op.f("decision_pkey")),
        sa.UniqueConstraint("case_no", name=op.f("decision_case_no_key")),
        sa.UniqueConstraint("org_code", "document_no", name=op.f("decision_org_code_document_no_key")),
    )
    op.create_table(
        "e_licence",
        sa.Column("identifier", sa.String(length=200), nullable=False),
        sa.Column("case_no", sa.String(length=64), nullable=False),
        sa.Column("type_code", sa.String(length=21), nullable=False),
        sa.Column("type_name", sa.String(length=100), nullable=False),
        sa.Column("licence_no", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=3), nullable=False),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column("holder_code", sa.String(length=64), nullable=False),
        sa.Column("holder_code_type", sa.String(length=10), nullable=False),
        sa.Column("issuer_name", sa.String(length=500), nullable=False),
        sa.Column("issuer_code", sa.String(length=64), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("jurisdiction_code", sa.String(length=12), nullable=False),
        sa.Column("trust_level", sa.String(length=1), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["case_no"], ["business_case.case_no"], name=op.f("e_licence_case_no_fkey")),
        sa.PrimaryKeyConstraint("identifier", name=op.f("e_licence_pkey")),
        sa.UniqueConstraint("case_no", name=op.f("e_licence_case_no_key")),
        sa.UniqueConstraint("licence_no", name=op.f("e_licence_licence_no_key")),
    )


def upgrade() -> None:
    _messaging()
    _workflow_and_counter()
    _case_and_task()
    _decision_and_licence()


def downgrade() -> None:
    op.drop_table("e_licence")
    op.drop_table("decision")
    op.drop_index("ix_task_queue", table_name="task")
    op.drop_table("task")
    op.drop_table("business_case")
    op.drop_table("counter")
    op.drop_table("workflow_definition")
    op.drop_table("inbox")
    op.drop_index("ix_outbox_unpublished", table_name="outbox")
    op.drop_table("outbox")
