"""Catalogue (事项清单): 目录清单 entries, every 实施清单 version, import jobs, and the version a case started on.

Revision ID: 9a4c2e7b1d18
Revises: c3d9a1e5b702
Create Date: 2026-12-02 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import yiwang_common.db.types

revision: str = "9a4c2e7b1d18"
down_revision: str | None = "c3d9a1e5b702"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = yiwang_common.db.types.TZDateTime(timezone=True)
JSON = postgresql.JSONB(astext_type=sa.Text())


def upgrade() -> None:
    op.create_table(
        "catalogue_entry",
        sa.Column("basic_code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("item_type", sa.String(length=2), nullable=False),
        sa.Column("legal_basis", JSON, nullable=False),
        sa.Column("parent_basic_code", sa.String(length=12), nullable=True),
        sa.Column("level_scope", JSON, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("basic_code"),
    )
    op.create_table(
        "item_version",
        sa.Column("item_code", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("basic_code", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("org_code", sa.String(length=18), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("content", JSON, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("submitted_at", TZ, nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", TZ, nullable=True),
        sa.Column("published_at", TZ, nullable=True),
        sa.Column("withdrawn_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("item_code", "version"),
    )
    op.create_index("ix_item_version_basic_code", "item_version", ["basic_code"])
    op.create_index("ix_item_version_org_code_status", "item_version", ["org_code", "status"])
    op.create_index(
        "uq_item_version_open",
        "item_version",
        ["item_code"],
        unique=True,
        postgresql_where=sa.text("status IN ('draft', 'submitted', 'approved')"),
    )
    op.create_index(
        "uq_item_version_published",
        "item_version",
        ["item_code"],
        unique=True,
        postgresql_where=sa.text("status = 'published'"),
    )
    op.add_column("case_file", sa.Column("item_version", sa.Integer(), nullable=True))
    op.create_table(
        "catalogue_import",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("file_format", sa.String(length=8), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("valid_rows", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("published", sa.Integer(), nullable=False),
        sa.Column("errors", JSON, nullable=False),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("finished_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("catalogue_import")
    op.drop_column("case_file", "item_version")
    op.drop_table("item_version")
    op.drop_table("catalogue_entry")
