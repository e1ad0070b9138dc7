"""The step timers' sweep as a worker (定时器巡检): one row per tick, swept once across replicas.

Revision ID: h_pay_timer_sweep
Revises: h_workflow_engine
Create Date: 2026-12-02 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import yiwang_common.db.types

revision: str = "h_pay_timer_sweep"
down_revision: str | None = "h_workflow_engine"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = yiwang_common.db.types.TZDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "timer_sweep",
        sa.Column("tick", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("swept_on", sa.Date(), nullable=False),
        sa.Column("worker", sa.String(length=100), nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("finished_at", TZ, nullable=False),
        sa.Column("fired", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tick", name=op.f("timer_sweep_pkey")),
    )


def downgrade() -> None:
    op.drop_table("timer_sweep")
