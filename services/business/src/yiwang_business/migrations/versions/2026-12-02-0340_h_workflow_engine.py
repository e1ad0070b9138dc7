"""Workflow engine: graph definitions, versions (草稿 → 已发布), migrations, case clock, tasks beyond a line.

Revision ID: h_workflow_engine
Revises: e41f6b2c8d93
Create Date: 2026-12-02 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import yiwang_common.db.types

revision: str = "h_workflow_engine"
down_revision: str | None = "e41f6b2c8d93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = yiwang_common.db.types.TZDateTime(timezone=True)
JSON = postgresql.JSONB(astext_type=sa.Text())


def upgrade() -> None:
    op.add_column("workflow_definition", sa.Column("gateways", JSON, nullable=True))
    op.add_column("workflow_definition", sa.Column("flows", JSON, nullable=True))
    op.create_table(
        "process_version",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("definition", JSON, nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("published_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("process_version_pkey")),
        sa.UniqueConstraint("item_code", "version", name=op.f("process_version_item_code_version_key")),
    )
    op.create_index(
        "uq_process_version_published",
        "process_version",
        ["item_code"],
        unique=True,
        postgresql_where=sa.text("status = 'published'"),
    )
    # Definitions stored before versions existed become their item's published version.
    op.execute(
        """
        INSERT INTO process_version (id, item_code, version, status, definition, source, created_by,
                                     created_at, published_at)
        SELECT gen_random_uuid(), item_code, version, 'published',
               jsonb_build_object('steps', steps, 'licence_type_code', licence_type_code,
                                  'licence_type_name', licence_type_name,
                                  'licence_validity_days', licence_validity_days,
                                  'decision_doc_prefix', decision_doc_prefix,
                                  'licence_fields', licence_fields),
               'api', 'migration', updated_at, updated_at
        FROM workflow_definition
        """
    )
    op.create_table(
        "workflow_migration",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("from_version", sa.Integer(), nullable=False),
        sa.Column("to_version", sa.Integer(), nullable=False),
        sa.Column("case_nos", JSON, nullable=False),
        sa.Column("step_map", JSON, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("migrated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("workflow_migration_pkey")),
    )
    op.add_column(
        "business_case", sa.Column("joins", JSON, server_default=sa.text("'{}'::jsonb"), nullable=False)
    )
    op.add_column("business_case", sa.Column("clock", sa.String(length=20), nullable=True))
    op.add_column("business_case", sa.Column("paused_at", TZ, nullable=True))
    op.add_column("business_case", sa.Column("pause_reason", sa.Text(), nullable=True))
    op.add_column(
        "business_case", sa.Column("paused_days", sa.Integer(), server_default=sa.text("0"), nullable=False)
    )
    # Steps repeat (退回) and run side by side (并联): a case no longer has one task per position.
    op.drop_constraint("task_case_no_position_key", "task", type_="unique")
    op.add_column("task", sa.Column("due_date", sa.Date(), nullable=True))
    op.add_column("task", sa.Column("lead_task_id", sa.Uuid(), nullable=True))
    op.add_column("task", sa.Column("reminders", sa.Integer(), server_default=sa.text("0"), nullable=False))
    op.add_column("task", sa.Column("timer_fired_at", TZ, nullable=True))
    op.create_index("ix_task_case", "task", ["case_no", "status"], unique=False)
    op.create_index(
        "ix_task_due",
        "task",
        ["due_date"],
        unique=False,
        postgresql_where=sa.text("status = 'open' AND timer_fired_at IS NULL"),
    )
    op.create_table(
        "case_log",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_no", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=True),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", JSON, nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["case_no"], ["business_case.case_no"], name=op.f("case_log_case_no_fkey")),
        sa.PrimaryKeyConstraint("id", name=op.f("case_log_pkey")),
    )
    op.create_index("ix_case_log_case", "case_log", ["case_no", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_case_log_case", table_name="case_log")
    op.drop_table("case_log")
    op.drop_index("ix_task_due", table_name="task")
    op.drop_index("ix_task_case", table_name="task")
    for column in ("timer_fired_at", "reminders", "lead_task_id", "due_date"):
        op.drop_column("task", column)
    op.create_unique_constraint("task_case_no_position_key", "task", ["case_no", "position"])
    for column in ("paused_days", "pause_reason", "paused_at", "clock", "joins"):
        op.drop_column("business_case", column)
    op.drop_table("workflow_migration")
    op.drop_index("uq_process_version_published", table_name="process_version")
    op.drop_table("process_version")
    op.drop_column("workflow_definition", "flows")
    op.drop_column("workflow_definition", "gateways")
