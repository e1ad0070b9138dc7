"""Base registries (基础库): 人口库, 法人库, their load jobs and the append-only lookup records.

Revision ID: h_people_base_registries
Revises: 7d3e1b9c4a20
Create Date: 2026-12-02 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import yiwang_common.db.types

revision: str = "h_people_base_registries"
down_revision: str | None = "7d3e1b9c4a20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TZ = yiwang_common.db.types.TZDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "registry_person",
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("gender", sa.String(length=2), nullable=True, comment="性别: 男 / 女"),
        sa.Column("birth_date", sa.Date(), nullable=False, comment="出生日期, read from the id number"),
        sa.Column("address", sa.String(length=300), nullable=True, comment="住址"),
        sa.Column("load_job_id", sa.Uuid(), nullable=False, comment="The load that last wrote the row"),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("id_number", name=op.f("registry_person_pkey")),
    )
    op.create_table(
        "registry_legal_person",
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False, comment="单位名称"),
        sa.Column("legal_rep_name", sa.String(length=100), nullable=False, comment="法定代表人"),
        sa.Column(
            "legal_rep_id_number", sa.String(length=18), nullable=False, comment="法定代表人公民身份号码"
        ),
        sa.Column("address", sa.String(length=300), nullable=True, comment="住所"),
        sa.Column("established_on", sa.Date(), nullable=True, comment="成立日期"),
        sa.Column("status", sa.String(length=20), nullable=False, comment="登记状态"),
        sa.Column("load_job_id", sa.Uuid(), nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("credit_code", name=op.f("registry_legal_person_pkey")),
    )
    op.create_table(
        "registry_load_job",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "registry_kind",
            sa.String(length=20),
            nullable=False,
            comment="population 人口库 / legal_person 法人库",
        ),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False, comment="running / completed / failed"),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("processed_rows", sa.Integer(), nullable=False),
        sa.Column("inserted", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("errors", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=True, comment="Why a failed load failed"),
        sa.Column("started_by", sa.String(length=64), nullable=False),
        sa.Column("started_at", _TZ, nullable=False),
        sa.Column("finished_at", _TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("registry_load_job_pkey")),
    )
    op.create_table(
        "registry_lookup",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("at", _TZ, nullable=False),
        sa.Column("registry_kind", sa.String(length=20), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False, comment="verify 核验 / prefill 预填"),
        sa.Column("caller_sub", sa.String(length=64), nullable=False),
        sa.Column("caller_kind", sa.String(length=20), nullable=False),
        sa.Column(
            "on_behalf_of",
            sa.String(length=64),
            nullable=True,
            comment="The portal user the service asked for",
        ),
        sa.Column("reason", sa.String(length=200), nullable=True, comment="查询事由"),
        sa.Column("key_masked", sa.String(length=18), nullable=False),
        sa.Column("matched", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("registry_lookup_pkey")),
    )


def downgrade() -> None:
    op.drop_table("registry_lookup")
    op.drop_table("registry_load_job")
    op.drop_table("registry_legal_person")
    op.drop_table("registry_person")
