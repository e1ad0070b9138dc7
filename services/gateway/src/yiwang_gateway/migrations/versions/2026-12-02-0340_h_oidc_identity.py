"""Identity (身份认证): signing keys, sign-in sessions, refresh tokens, SMS challenges.

Revision ID: h_oidc_identity
Revises: 20261202_1500_gateway
Create Date: 2026-12-02 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import yiwang_common.db.types

revision: str = "h_oidc_identity"
down_revision: str | None = "20261202_1500_gateway"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = yiwang_common.db.types.TZDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "signing_key",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("activate_at", TZ, nullable=False),
        sa.Column("retire_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("kid", name=op.f("signing_key_pkey")),
    )
    op.create_table(
        "auth_session",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("client", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ, nullable=True),
        sa.Column("revoke_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("auth_session_account_id_fkey"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("auth_session_pkey")),
    )
    op.create_index("ix_auth_session_account_id", "auth_session", ["account_id"], unique=False)
    op.create_table(
        "refresh_token",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("used_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["auth_session.id"],
            name=op.f("refresh_token_session_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("refresh_token_pkey")),
    )
    op.create_index("ix_refresh_token_session_id", "refresh_token", ["session_id"], unique=False)
    op.create_table(
        "sms_challenge",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("phone_key", sa.String(length=64), nullable=False),
        sa.Column("client_key", sa.String(length=80), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("consumed_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("sms_challenge_pkey")),
    )
    op.create_index(
        "ix_sms_challenge_phone_key_created_at", "sms_challenge", ["phone_key", "created_at"], unique=False
    )
    op.create_index(
        "ix_sms_challenge_client_key_created_at", "sms_challenge", ["client_key", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_table("sms_challenge")
    op.drop_table("refresh_token")
    op.drop_table("auth_session")
    op.drop_table("signing_key")
