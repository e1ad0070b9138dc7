"""A message is parked once per consumer (死信只记一次): a unique index, not a read before the insert.

Two replicas of a consumer parking copies of one message at once (JetStream redelivered it while the
first copy was being handled) both found no row and both inserted: the NOT EXISTS of the parking
statement cannot see the other's uncommitted row. The unique index makes the second wait for the
first and then insert nothing. Copies parked before it existed are exact copies of one event; the
first row of each is kept.

Revision ID: dead_letter_parked_once
Revises: warning_per_due_date
Create Date: 2026-12-04 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dead_letter_parked_once"
down_revision: str | None = "warning_per_due_date"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        DELETE FROM dead_letter AS later USING dead_letter AS first
        WHERE later.kind = 'incoming' AND first.kind = 'incoming'
          AND later.replayed_at IS NULL AND first.replayed_at IS NULL
          AND later.consumer = first.consumer AND later.event_id = first.event_id
          AND later.id > first.id
        """
    )
    op.create_index(
        "uq_dead_letter_parked_once",
        "dead_letter",
        ["consumer", "event_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'incoming' AND replayed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_dead_letter_parked_once", table_name="dead_letter")
