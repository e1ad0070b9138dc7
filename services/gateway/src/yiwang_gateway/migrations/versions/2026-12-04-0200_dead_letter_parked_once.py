"""A message is parked once per consumer (死信只记一次): a unique index, not a read before the insert (ADR 0138).

Revision ID: dead_letter_parked_once
Revises: h_sso_single_logout
Create Date: 2026-12-04 02:00:00
"""

from collections.abc import Sequence

from yiwang_common.events.schema_changes import (
    dead_letter_parked_once_downgrade,
    dead_letter_parked_once_upgrade,
)

revision: str = "dead_letter_parked_once"
down_revision: str | None = "h_sso_single_logout"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    dead_letter_parked_once_upgrade()


def downgrade() -> None:
    dead_letter_parked_once_downgrade()
