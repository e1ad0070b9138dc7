"""联办并联视图 (ADR 0121): when an external system last pulled its dispatches, so the console can
tell a part waiting on a system that is down; a partial index for the console's list of joint cases.

Revision ID: h_joint3_system_last_pull
Revises: h_accept_case_kinds
Create Date: 2026-12-02 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import yiwang_common.db.types

revision: str = "h_joint3_system_last_pull"
down_revision: str | None = "h_accept_case_kinds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_case_file_joint_accepted_at",
        "case_file",
        ["accepted_at", "case_no"],
        postgresql_where=sa.text("item_code = 'JOINT'"),
    )
    op.add_column(
        "plugin_system",
        sa.Column("last_pull_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("plugin_system", "last_pull_at")
    op.drop_index(
        "ix_case_file_joint_accepted_at",
        table_name="case_file",
        postgresql_where=sa.text("item_code = 'JOINT'"),
    )
