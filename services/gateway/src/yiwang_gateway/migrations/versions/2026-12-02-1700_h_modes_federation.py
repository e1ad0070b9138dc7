"""Cross-platform sign-in and L3 real-name records (ADR 0114): authorization codes, delegated logins,
federated identities, real-name verifications.

Revision ID: h_modes_federation
Revises: h_pages_application_drafts
Create Date: 2026-12-02 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import yiwang_common.db.types

revision: str = "h_modes_federation"
down_revision: str | None = "h_pages_application_drafts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "authorization_code",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("nonce", sa.String(length=128), nullable=False),
        sa.Column("auth_time", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("created_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("used_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column("session_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("authorization_code_account_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("authorization_code_pkey")),
    )
    op.create_index("ix_authorization_code_account_id", "authorization_code", ["account_id"], unique=False)
    op.create_table(
        "delegated_login",
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("next_url", sa.Text(), nullable=False),
        sa.Column("created_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("used_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("state", name=op.f("delegated_login_pkey")),
    )
    op.create_table(
        "federated_identity",
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("last_sign_in_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("federated_identity_account_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("issuer", "subject", name=op.f("federated_identity_pkey")),
    )
    op.create_index("ix_federated_identity_account_id", "federated_identity", ["account_id"], unique=True)
    op.create_table(
        "realname_verification",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("level_before", sa.String(length=2), nullable=True),
        sa.Column("level_after", sa.String(length=2), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("staff_id", sa.String(length=64), nullable=False),
        sa.Column("staff_name", sa.String(length=100), nullable=False),
        sa.Column("staff_org_code", sa.String(length=18), nullable=True),
        sa.Column("verified_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("realname_verification_pkey")),
    )
    op.create_index(
        "ix_realname_verification_account_id", "realname_verification", ["account_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_realname_verification_account_id", table_name="realname_verification")
    op.drop_table("realname_verification")
    op.drop_index("ix_federated_identity_account_id", table_name="federated_identity")
    op.drop_table("federated_identity")
    op.drop_table("delegated_login")
    op.drop_index("ix_authorization_code_account_id", table_name="authorization_code")
    op.drop_table("authorization_code")
