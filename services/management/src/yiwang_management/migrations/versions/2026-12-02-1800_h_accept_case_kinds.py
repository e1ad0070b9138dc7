"""六件管理 and 容缺受理 (ADR 0111): a case's 办件类别, its intake rules and the materials it still owes.

Revision ID: h_accept_case_kinds
Revises: h_plugin_joint_parts
Create Date: 2026-12-02 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "h_accept_case_kinds"
down_revision: str | None = "h_plugin_joint_parts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("case_file", sa.Column("case_kind", sa.String(length=1), nullable=True))
    op.add_column(
        "case_file", sa.Column("intake_rules", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )
    op.add_column(
        "case_file", sa.Column("pending_materials", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )
    op.add_column("case_file", sa.Column("pending_due_date", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("case_file", "pending_due_date")
    op.drop_column("case_file", "pending_materials")
    op.drop_column("case_file", "intake_rules")
    op.drop_column("case_file", "case_kind")
