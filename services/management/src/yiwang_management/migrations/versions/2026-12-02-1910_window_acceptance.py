"""The window (受理窗口) that accepted a case, on the case and its clock (ADR 0122).

Revision ID: window_acceptance
Revises: h_joint3_system_last_pull
Create Date: 2026-12-02 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "window_acceptance"
down_revision: str | None = "h_joint3_system_last_pull"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("case_file", sa.Column("accepted_window", sa.String(length=64), nullable=True))
    op.add_column("case_deadline", sa.Column("window_code", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("case_deadline", "window_code")
    op.drop_column("case_file", "accepted_window")
