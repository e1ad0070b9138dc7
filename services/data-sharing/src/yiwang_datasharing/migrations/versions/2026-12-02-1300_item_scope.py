"""Item scope (事项实施主体) for access checks; case records indexed by item.

Revision ID: 7d3e1b9c4a20
Revises: 9b2e7d4c1f60
Create Date: 2026-12-02 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import yiwang_common.db.types

revision: str = "7d3e1b9c4a20"
down_revision: str | None = "9b2e7d4c1f60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "item_scope",
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("org_code", sa.String(length=32), nullable=False),
        sa.Column("org_name", sa.String(length=200), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("item_code", name=op.f("item_scope_pkey")),
    )
    op.create_index(op.f("ix_item_scope_org_code"), "item_scope", ["org_code"], unique=False)
    op.create_index(op.f("ix_item_scope_region_code"), "item_scope", ["region_code"], unique=False)
    op.create_index(op.f("ix_case_record_item_code"), "case_record", ["item_code"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_case_record_item_code"), table_name="case_record")
    op.drop_index(op.f("ix_item_scope_region_code"), table_name="item_scope")
    op.drop_index(op.f("ix_item_scope_org_code"), table_name="item_scope")
    op.drop_table("item_scope")
