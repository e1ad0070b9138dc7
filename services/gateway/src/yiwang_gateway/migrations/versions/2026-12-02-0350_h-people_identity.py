"""Real-name level, legal representatives, agent authorisations (经办人授权), who acted for whom.

Revision ID: h_people_identity
Revises: h_oidc_identity
Create Date: 2026-12-02 03:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import yiwang_common.db.types

revision: str = "h_people_identity"
down_revision: str | None = "h_oidc_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TZ = yiwang_common.db.types.TZDateTime(timezone=True)


def upgrade() -> None:
    op.add_column("account", sa.Column("realname_level", sa.String(length=2), nullable=True))
    op.add_column("account", sa.Column("legal_rep_name", sa.String(length=100), nullable=True))
    op.add_column("account", sa.Column("legal_rep_id_number", sa.String(length=18), nullable=True))
    op.add_column("application", sa.Column("agent", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.create_table(
        "agent_authorisation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("legal_person_id", sa.Uuid(), nullable=False, comment="The legal person's account"),
        sa.Column("credit_code", sa.String(length=18), nullable=False, comment="统一社会信用代码"),
        sa.Column("agent_account_id", sa.Uuid(), nullable=False, comment="经办人's natural-person account"),
        sa.Column("agent_name", sa.String(length=100), nullable=False),
        sa.Column("agent_id_number", sa.String(length=18), nullable=False),
        sa.Column(
            "actions",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="apply / supplement / withdraw / view",
        ),
        sa.Column(
            "item_codes",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="实施编码; empty: every item",
        ),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("granted_by", sa.String(length=64), nullable=False),
        sa.Column("granted_at", _TZ, nullable=False),
        sa.Column("revoked_at", _TZ, nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("agent_authorisation_pkey")),
    )
    op.create_index(
        "ix_agent_authorisation_agent_account_id", "agent_authorisation", ["agent_account_id"], unique=False
    )
    op.create_index(
        "ix_agent_authorisation_legal_person_id", "agent_authorisation", ["legal_person_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_agent_authorisation_legal_person_id", table_name="agent_authorisation")
    op.drop_index("ix_agent_authorisation_agent_account_id", table_name="agent_authorisation")
    op.drop_table("agent_authorisation")
    op.drop_column("application", "agent")
    op.drop_column("account", "legal_rep_id_number")
    op.drop_column("account", "legal_rep_name")
    op.drop_column("account", "realname_level")
