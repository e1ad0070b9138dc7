"""Deadlines that stay true and e-supervision (电子监察): case clocks, pauses, due-date history, step
clocks, warnings, 催办/督办, sweep ticks, supervision rules and loaded holiday schedules.

Revision ID: h_supervision_deadlines
Revises: 9a4c2e7b1d18
Create Date: 2026-12-02 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import yiwang_common.db.types

revision: str = "h_supervision_deadlines"
down_revision: str | None = "9a4c2e7b1d18"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calendar_schedule",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("loaded_by", sa.String(length=100), nullable=False),
        sa.Column("loaded_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("calendar_schedule_pkey")),
    )
    op.create_table(
        "supervision_rule",
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("warn_days", sa.Integer(), nullable=False),
        sa.Column("step_warn_days", sa.Integer(), nullable=False),
        sa.Column("deemed_approval", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("item_code", name=op.f("supervision_rule_pkey")),
    )
    op.create_table(
        "supervision_sweep",
        sa.Column("tick", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("swept_on", sa.Date(), nullable=False),
        sa.Column("worker", sa.String(length=100), nullable=False),
        sa.Column("started_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("counts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("tick", name=op.f("supervision_sweep_pkey")),
    )
    op.create_table(
        "case_deadline",
        sa.Column("case_no", sa.String(length=32), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("org_code", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("clock_start", sa.Date(), nullable=False),
        sa.Column("promised_limit_days", sa.Integer(), nullable=False),
        sa.Column("statutory_limit_days", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("statutory_due_date", sa.Date(), nullable=False),
        sa.Column("warn_date", sa.Date(), nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("paused_days", sa.Integer(), nullable=False),
        sa.Column("extension_days", sa.Integer(), nullable=False),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("extension_approver_id", sa.String(length=64), nullable=True),
        sa.Column("extension_approver_name", sa.String(length=100), nullable=True),
        sa.Column("extended_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column("warned_level", sa.Integer(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("deemed_approved", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_no"], ["case_file.case_no"], name=op.f("case_deadline_case_no_fkey"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("case_no", name=op.f("case_deadline_pkey")),
    )
    op.create_index(
        "ix_case_deadline_closed_on",
        "case_deadline",
        ["closed_on"],
        unique=False,
        postgresql_where=sa.text("closed_on IS NOT NULL"),
    )
    op.create_index(
        "ix_case_deadline_provisional",
        "case_deadline",
        ["statutory_due_date"],
        unique=False,
        postgresql_where=sa.text("closed_on IS NULL AND provisional"),
    )
    op.create_index(
        "ix_case_deadline_red",
        "case_deadline",
        ["due_date"],
        unique=False,
        postgresql_where=sa.text("closed_on IS NULL AND NOT paused AND warned_level < 2"),
    )
    op.create_index(
        "ix_case_deadline_yellow",
        "case_deadline",
        ["warn_date"],
        unique=False,
        postgresql_where=sa.text("closed_on IS NULL AND NOT paused AND warned_level < 1"),
    )
    op.create_table(
        "case_due_change",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("case_no", sa.String(length=32), nullable=False),
        sa.Column("old_due_date", sa.Date(), nullable=True),
        sa.Column("new_due_date", sa.Date(), nullable=False),
        sa.Column("old_provisional", sa.Boolean(), nullable=True),
        sa.Column("new_provisional", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("changed_by", sa.String(length=100), nullable=False),
        sa.Column("changed_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_no"], ["case_file.case_no"], name=op.f("case_due_change_case_no_fkey"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("case_due_change_pkey")),
    )
    op.create_index(op.f("ix_case_due_change_case_no"), "case_due_change", ["case_no"], unique=False)
    op.create_table(
        "case_pause",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("case_no", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("started_by", sa.String(length=100), nullable=False),
        sa.Column("ended_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_no"], ["case_file.case_no"], name=op.f("case_pause_case_no_fkey"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("case_pause_pkey")),
    )
    op.create_index(op.f("ix_case_pause_case_no"), "case_pause", ["case_no"], unique=False)
    op.create_index(
        "uq_case_pause_running",
        "case_pause",
        ["case_no"],
        unique=True,
        postgresql_where=sa.text("ended_on IS NULL"),
    )
    op.create_table(
        "case_step_clock",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("case_no", sa.String(length=32), nullable=False),
        sa.Column("step_key", sa.String(length=64), nullable=False),
        sa.Column("step_name", sa.String(length=100), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("org_code", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("started_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("warn_date", sa.Date(), nullable=False),
        sa.Column("ended_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column("warned_level", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_no"], ["case_file.case_no"], name=op.f("case_step_clock_case_no_fkey"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("case_step_clock_pkey")),
        sa.UniqueConstraint(
            "case_no", "step_key", "started_at", name=op.f("case_step_clock_case_no_step_key_started_at_key")
        ),
    )
    op.create_index(op.f("ix_case_step_clock_case_no"), "case_step_clock", ["case_no"], unique=False)
    op.create_index(
        "ix_case_step_clock_red",
        "case_step_clock",
        ["due_date"],
        unique=False,
        postgresql_where=sa.text("ended_at IS NULL AND warned_level < 2"),
    )
    op.create_index(
        "ix_case_step_clock_yellow",
        "case_step_clock",
        ["warn_date"],
        unique=False,
        postgresql_where=sa.text("ended_at IS NULL AND warned_level < 1"),
    )
    op.create_table(
        "supervision_warning",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("case_no", sa.String(length=32), nullable=False),
        sa.Column("step_key", sa.String(length=64), nullable=False),
        sa.Column("step_name", sa.String(length=100), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("org_code", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("raised_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("tick", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reply_text", sa.Text(), nullable=True),
        sa.Column("replied_by", sa.String(length=100), nullable=True),
        sa.Column("replied_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.Column("closed_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("supervision_warning_pkey")),
        sa.UniqueConstraint(
            "case_no", "step_key", "level", name=op.f("supervision_warning_case_no_step_key_level_key")
        ),
    )
    op.create_index(
        "ix_supervision_warning_org_code_status", "supervision_warning", ["org_code", "status"], unique=False
    )
    op.create_index(
        "ix_supervision_warning_status_raised_at",
        "supervision_warning",
        ["status", "raised_at"],
        unique=False,
    )
    op.create_table(
        "supervision_action",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("case_no", sa.String(length=32), nullable=False),
        sa.Column("warning_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("org_code", sa.String(length=32), nullable=False),
        sa.Column("issued_by_id", sa.String(length=64), nullable=False),
        sa.Column("issued_by", sa.String(length=100), nullable=False),
        sa.Column("issued_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_no"],
            ["case_file.case_no"],
            name=op.f("supervision_action_case_no_fkey"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["warning_id"],
            ["supervision_warning.id"],
            name=op.f("supervision_action_warning_id_fkey"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("supervision_action_pkey")),
    )
    op.create_index(op.f("ix_supervision_action_case_no"), "supervision_action", ["case_no"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_supervision_action_case_no"), table_name="supervision_action")
    op.drop_table("supervision_action")
    op.drop_index("ix_supervision_warning_status_raised_at", table_name="supervision_warning")
    op.drop_index("ix_supervision_warning_org_code_status", table_name="supervision_warning")
    op.drop_table("supervision_warning")
    op.drop_index(
        "ix_case_step_clock_yellow",
        table_name="case_step_clock",
        postgresql_where=sa.text("ended_at IS NULL AND warned_level < 1"),
    )
    op.drop_index(
        "ix_case_step_clock_red",
        table_name="case_step_clock",
        postgresql_where=sa.text("ended_at IS NULL AND warned_level < 2"),
    )
    op.drop_index(op.f("ix_case_step_clock_case_no"), table_name="case_step_clock")
    op.drop_table("case_step_clock")
    op.drop_index(
        "uq_case_pause_running", table_name="case_pause", postgresql_where=sa.text("ended_on IS NULL")
    )
    op.drop_index(op.f("ix_case_pause_case_no"), table_name="case_pause")
    op.drop_table("case_pause")
    op.drop_index(op.f("ix_case_due_change_case_no"), table_name="case_due_change")
    op.drop_table("case_due_change")
    op.drop_index(
        "ix_case_deadline_yellow",
        table_name="case_deadline",
        postgresql_where=sa.text("closed_on IS NULL AND NOT paused AND warned_level < 1"),
    )
    op.drop_index(
        "ix_case_deadline_red",
        table_name="case_deadline",
        postgresql_where=sa.text("closed_on IS NULL AND NOT paused AND warned_level < 2"),
    )
    op.drop_index(
        "ix_case_deadline_provisional",
        table_name="case_deadline",
        postgresql_where=sa.text("closed_on IS NULL AND provisional"),
    )
    op.drop_index(
        "ix_case_deadline_closed_on",
        table_name="case_deadline",
        postgresql_where=sa.text("closed_on IS NOT NULL"),
    )
    op.drop_table("case_deadline")
    op.drop_table("supervision_sweep")
    op.drop_table("supervision_rule")
    op.drop_table("calendar_schedule")
