"""Catalogue copy: the classification facets of the versioned catalogue (ItemPublished additive fields).

Revision ID: 20261202_1500_gateway
Revises: 20261202_1300_gateway
Create Date: 2026-12-02 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261202_1500_gateway"
down_revision: str | None = "20261202_1300_gateway"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "catalogue_item",
        sa.Column("facets", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("catalogue_item", "facets")
