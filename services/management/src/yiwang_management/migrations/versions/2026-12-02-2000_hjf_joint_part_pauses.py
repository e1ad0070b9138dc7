"""联办分件计时暂停 (ADR 0127): a built-in part's step clock stands still while business has paused the
part's own clock (补正, 挂起, 特殊程序), and its due date moves by the working days it stood.

Revision ID: hjf_joint_part_pauses
Revises: window_acceptance
Create Date: 2026-12-02 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "hjf_joint_part_pauses"
down_revision: str | None = "window_acceptance"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "joint_part",
        sa.Column(
            "pauses",
            postgresql.JSONB(),
            nullable=False,
            server_default=sa.text("'[]'::jsonb"),
        ),
    )
    op.add_column(
        "joint_part", sa.Column("paused_days", sa.Integer(), nullable=False, server_default=sa.text("0"))
    )
    op.add_column(
        "case_step_clock", sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.text("false"))
    )


def downgrade() -> None:
    op.drop_column("case_step_clock", "paused")
    op.drop_column("joint_part", "paused_days")
    op.drop_column("joint_part", "pauses")
