"""Dead letters (死信) and the relay's last error: parked events never block the ones behind them.

Revision ID: 20261202_1200_gateway
Revises: 20261202_0900_gateway
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import yiwang_common.db.types

revision: str = "20261202_1200_gateway"
down_revision: str | None = "20261202_0900_gateway"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = yiwang_common.db.types.TZDateTime(timezone=True)


def upgrade() -> None:
    op.add_column("outbox", sa.Column("last_error", sa.Text(), nullable=True))
    op.create_table(
        "dead_letter",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("consumer", sa.String(length=100), nullable=True),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", TZ, nullable=False),
        sa.Column("parked_at", TZ, nullable=False),
        sa.Column("replayed_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("dead_letter_pkey")),
    )
    op.create_index(
        "ix_dead_letter_parked",
        "dead_letter",
        ["kind", "id"],
        unique=False,
        postgresql_where=sa.text("replayed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_dead_letter_parked", table_name="dead_letter")
    op.drop_table("dead_letter")
    op.drop_column("outbox", "last_error")
