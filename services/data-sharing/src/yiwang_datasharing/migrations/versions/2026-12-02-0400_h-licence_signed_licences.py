"""Signed e-licences: signature and verification token on e_licence, the licence catalogue, signing keys.

Revision ID: h_licence_signed_licences
Revises: h_staff_audit_log
Create Date: 2026-12-02 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import yiwang_common.db.types

revision: str = "h_licence_signed_licences"
down_revision: str | None = "h_staff_audit_log"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("e_licence", sa.Column("verification_token", sa.String(length=64), nullable=True))
    op.add_column("e_licence", sa.Column("signed_payload", sa.Text(), nullable=True))
    op.add_column("e_licence", sa.Column("signature_alg", sa.String(length=16), nullable=True))
    op.add_column("e_licence", sa.Column("signature_kid", sa.String(length=64), nullable=True))
    op.add_column("e_licence", sa.Column("signature_value", sa.Text(), nullable=True))
    op.add_column("e_licence", sa.Column("status_reason", sa.Text(), nullable=True))
    op.add_column(
        "e_licence",
        sa.Column("status_changed_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
    )
    op.create_unique_constraint(op.f("e_licence_verification_token_key"), "e_licence", ["verification_token"])
    op.create_table(
        "licence_type",
        sa.Column("code", sa.String(length=21), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=8), nullable=False),
        sa.Column("defining_org_name", sa.String(length=200), nullable=False),
        sa.Column("defining_org_code", sa.String(length=18), nullable=False),
        sa.Column("defining_level", sa.String(length=8), nullable=False),
        sa.Column("issuing_level", sa.String(length=8), nullable=False),
        sa.Column("holder_category", sa.String(length=16), nullable=False),
        sa.Column("validity_days", sa.Integer(), nullable=True),
        sa.Column("data_items", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("licence_type_pkey")),
    )
    op.create_table(
        "licence_signing_key",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("org_code", sa.String(length=32), nullable=False),
        sa.Column("algorithm", sa.String(length=16), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("sealed_private_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("kid", name=op.f("licence_signing_key_pkey")),
    )
    op.create_index(
        op.f("ix_licence_signing_key_org_code"), "licence_signing_key", ["org_code"], unique=False
    )
    op.create_index(
        "uq_licence_signing_key_active",
        "licence_signing_key",
        ["org_code", "algorithm"],
        unique=True,
        postgresql_where=sa.text("retired_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_licence_signing_key_active", table_name="licence_signing_key")
    op.drop_index(op.f("ix_licence_signing_key_org_code"), table_name="licence_signing_key")
    op.drop_table("licence_signing_key")
    op.drop_table("licence_type")
    op.drop_constraint(op.f("e_licence_verification_token_key"), "e_licence", type_="unique")
    for column in (
        "status_changed_at",
        "status_reason",
        "signature_value",
        "signature_kid",
        "signature_alg",
        "signed_payload",
        "verification_token",
    ):
        op.drop_column("e_licence", column)
