"""联办 in the portal (ADR 0121): a joint case's parts, one per department, on its one application.

Revision ID: h_joint3_application_joint_parts
Revises: h_modes_federation
Create Date: 2026-12-02 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "h_joint3_application_joint_parts"
down_revision: str | None = "h_modes_federation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "application", sa.Column("joint_parts", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("application", "joint_parts")
