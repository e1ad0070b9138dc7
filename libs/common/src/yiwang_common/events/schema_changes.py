"""Changes to the messaging tables every service holds (outbox, inbox, dead letters), one function pair each.

Every service keeps its own Alembic environment and schema, so each has a migration for a change to
these shared tables. The change itself is written once here, and each migration calls it. A function
here is part of the migration history: once released, it is never edited, only followed by a new
one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

#: Where a dead letter is still parked: not replayed yet, for an incoming message (ADR 0138).
_PARKED_INCOMING = "kind = 'incoming' AND replayed_at IS NULL"


def dead_letter_parked_once_upgrade() -> None:
    """ADR 0138: one parked row per consumer and event, enforced by a partial unique index.

    Copies parked before the index existed (two replicas parking at once) are exact copies of one
    event; the first row of each is kept.
    """
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
        postgresql_where=sa.text(_PARKED_INCOMING),
    )


def dead_letter_parked_once_downgrade() -> None:
    op.drop_index("uq_dead_letter_parked_once", table_name="dead_letter")
