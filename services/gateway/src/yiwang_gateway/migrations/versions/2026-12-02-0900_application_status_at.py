"""Application: the time of the event that set the projected status (status_at).

Revision ID: 20261202_0900_gateway
Revises: 20261123_1400_gateway
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import yiwang_common.db.types

revision: str = "20261202_0900_gateway"
down_revision: str | None = "20261123_1400_gateway"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("application", sa.Column("status_at", yiwang_common.db.types.TZDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("application", "status_at")
