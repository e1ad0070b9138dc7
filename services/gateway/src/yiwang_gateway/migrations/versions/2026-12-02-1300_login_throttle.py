"""Login throttle (登录失败计数) per account name and client address.

Revision ID: 20261202_1300_gateway
Revises: 20261202_1200_gateway
Create Date: 2026-12-02 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import yiwang_common.db.types

revision: str = "20261202_1300_gateway"
down_revision: str | None = "20261202_1200_gateway"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("blocked_until", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column("last_failure_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("login_throttle_pkey")),
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
