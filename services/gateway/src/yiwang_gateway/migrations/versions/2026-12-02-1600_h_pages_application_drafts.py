"""Application drafts (申请草稿) and the handling columns of the application (clock, withdrawn_at).

Revision ID: h_pages_application_drafts
Revises: h_staff_staff_assignment
Create Date: 2026-12-02 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import yiwang_common.db.types

revision: str = "h_pages_application_drafts"
down_revision: str | None = "h_staff_staff_assignment"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "application_draft",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("applicant_id", sa.String(length=64), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("item_name", sa.String(length=200), nullable=False),
        sa.Column("form", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("materials", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("application_id"),
    )
    op.create_index(
        "ix_application_draft_applicant_id_updated_at",
        "application_draft",
        ["applicant_id", "updated_at"],
        unique=False,
    )
    op.add_column("application", sa.Column("clock", sa.String(length=32), nullable=True))
    op.add_column(
        "application",
        sa.Column("withdrawn_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("application", "withdrawn_at")
    op.drop_column("application", "clock")
    op.drop_index("ix_application_draft_applicant_id_updated_at", table_name="application_draft")
    op.drop_table("application_draft")
