"""Organisation tree (行政区划 → 部门 → 窗口/岗位), staff and their posts; indexes of the staff case list.

Revision ID: h_staff_organisation
Revises: 9a4c2e7b1d18
Create Date: 2026-12-02 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import yiwang_common.db.types

revision: str = "h_staff_organisation"
down_revision: str | None = "9a4c2e7b1d18"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = yiwang_common.db.types.TZDateTime(timezone=True)
JSON = postgresql.JSONB(astext_type=sa.Text())


def upgrade() -> None:
    op.create_table(
        "org_region",
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("parent_code", sa.String(length=6), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["parent_code"], ["org_region.code"]),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_index(op.f("ix_org_region_parent_code"), "org_region", ["parent_code"], unique=False)
    op.create_table(
        "org_department",
        sa.Column("org_code", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("level", sa.String(length=1), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["region_code"], ["org_region.code"]),
        sa.PrimaryKeyConstraint("org_code"),
    )
    op.create_index(op.f("ix_org_department_region_code"), "org_department", ["region_code"], unique=False)
    op.create_table(
        "org_post",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_code", sa.String(length=18), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("roles", JSON, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["org_code"], ["org_department.org_code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_code", "code"),
    )
    op.create_table(
        "staff_member",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("org_code", sa.String(length=18), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["org_code"], ["org_department.org_code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_index(op.f("ix_staff_member_org_code"), "staff_member", ["org_code"], unique=False)
    op.create_table(
        "staff_post",
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("post_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["org_post.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_member.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("staff_id", "post_id"),
    )
    op.create_index(op.f("ix_staff_post_post_id"), "staff_post", ["post_id"], unique=False)
    # A case's county is the first six characters of its 办件编号: the staff list of a unit in a
    # county, and a county's list, are read in the order of these indexes.
    op.execute(
        "CREATE INDEX ix_case_file_org_region_registered ON case_file "
        "(org_code, substr(case_no, 1, 6), registered_at, case_no)"
    )
    op.execute(
        "CREATE INDEX ix_case_file_region_registered ON case_file (substr(case_no, 1, 6), registered_at, case_no)"
    )
    op.create_index("ix_case_file_registered_at_case_no", "case_file", ["registered_at", "case_no"])
    # A unit sits in one county: without this the planner multiplies the two selectivities,
    # expects a handful of rows, and sorts the unit's whole list instead of reading the index.
    op.execute(
        "CREATE STATISTICS case_file_org_region (dependencies, mcv) ON org_code, (substr(case_no, 1, 6)) FROM case_file"
    )


def downgrade() -> None:
    op.drop_index("ix_case_file_registered_at_case_no", table_name="case_file")
    op.execute("DROP STATISTICS case_file_org_region")
    op.drop_index("ix_case_file_region_registered", table_name="case_file")
    op.drop_index("ix_case_file_org_region_registered", table_name="case_file")
    op.drop_index(op.f("ix_staff_post_post_id"), table_name="staff_post")
    op.drop_table("staff_post")
    op.drop_index(op.f("ix_staff_member_org_code"), table_name="staff_member")
    op.drop_table("staff_member")
    op.drop_table("org_post")
    op.drop_index(op.f("ix_org_department_region_code"), table_name="org_department")
    op.drop_table("org_department")
    op.drop_index(op.f("ix_org_region_parent_code"), table_name="org_region")
    op.drop_table("org_region")
