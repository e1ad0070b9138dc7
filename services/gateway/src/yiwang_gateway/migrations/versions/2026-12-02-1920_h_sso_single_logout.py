"""Single logout across platforms (ADR 0116): the provider session of an authorization code, the
portals signed in from a session, the local sessions opened from a provider's, logout notices to
deliver, and logout tokens taken.

Revision ID: h_sso_single_logout
Revises: staff_window
Create Date: 2026-12-02 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import yiwang_common.db.types

revision: str = "h_sso_single_logout"
down_revision: str | None = "staff_window"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("authorization_code", sa.Column("op_session_id", sa.Uuid(), nullable=True))
    op.create_table(
        "client_session",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("client_session_account_id_fkey"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["auth_session.id"],
            name=op.f("client_session_session_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "client_id", name=op.f("client_session_pkey")),
    )
    op.create_index("ix_client_session_account_id", "client_session", ["account_id"], unique=False)
    op.create_table(
        "federated_session",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("upstream_sid", sa.String(length=64), nullable=True),
        sa.Column("id_token", sa.Text(), nullable=True),
        sa.Column("created_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["auth_session.id"],
            name=op.f("federated_session_session_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("federated_session_pkey")),
    )
    op.create_index(
        "ix_federated_session_issuer_upstream_sid",
        "federated_session",
        ["issuer", "upstream_sid"],
        unique=False,
    )
    op.create_table(
        "logout_delivery",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("audience", sa.String(length=255), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=True),
        sa.Column("sid", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("created_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("delivered_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column("failed_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("logout_delivery_pkey")),
    )
    op.create_index(
        "ix_logout_delivery_due",
        "logout_delivery",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("delivered_at IS NULL AND failed_at IS NULL"),
    )
    op.create_table(
        "logout_token_seen",
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("expires_at", yiwang_common.db.types.TZDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("issuer", "jti", name=op.f("logout_token_seen_pkey")),
    )
    op.create_index("ix_logout_token_seen_expires_at", "logout_token_seen", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_logout_token_seen_expires_at", table_name="logout_token_seen")
    op.drop_table("logout_token_seen")
    op.drop_index("ix_logout_delivery_due", table_name="logout_delivery")
    op.drop_table("logout_delivery")
    op.drop_index("ix_federated_session_issuer_upstream_sid", table_name="federated_session")
    op.drop_table("federated_session")
    op.drop_index("ix_client_session_account_id", table_name="client_session")
    op.drop_table("client_session")
    op.drop_column("authorization_code", "op_session_id")
