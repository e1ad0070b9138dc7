"""Staff assignments (岗位分配) from management: roles, unit and region of staff accounts.

Revision ID: h_staff_staff_assignment
Revises: h_people_identity
Create Date: 2026-12-02 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import yiwang_common.db.types

revision: str = "h_staff_staff_assignment"
down_revision: str | None = "h_people_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_assignment",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("org_code", sa.String(length=18), nullable=False),
        sa.Column("org_name", sa.String(length=200), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("roles", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("username"),
    )


def downgrade() -> None:
    op.drop_table("staff_assignment")
