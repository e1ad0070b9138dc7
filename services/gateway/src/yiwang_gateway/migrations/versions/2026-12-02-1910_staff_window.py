"""The window (窗口) a staff account holds, for its token's ``win`` claim (ADR 0122).

Revision ID: staff_window
Revises: h_joint3_application_joint_parts
Create Date: 2026-12-02 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "staff_window"
down_revision: str | None = "h_joint3_application_joint_parts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("staff_assignment", sa.Column("window_code", sa.String(length=32), nullable=True))


def downgrade() -> None:
    op.drop_column("staff_assignment", "window_code")
