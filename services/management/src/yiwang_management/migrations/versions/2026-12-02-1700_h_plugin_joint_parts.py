"""Joint cases' parts (联办分件), external systems (部门自建系统), their tokens, and item handlers.

Revision ID: h_plugin_joint_parts
Revises: h_pay_payment_delivery
Create Date: 2026-12-02 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import yiwang_common.db.types

revision: str = "h_plugin_joint_parts"
down_revision: str | None = "h_pay_payment_delivery"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = yiwang_common.db.types.TZDateTime(timezone=True)
JSON = postgresql.JSONB(astext_type=sa.Text())


def upgrade() -> None:
    op.create_table(
        "plugin_system",
        sa.Column("system_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("department_name", sa.String(length=200), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("system_id", name=op.f("plugin_system_pkey")),
        sa.UniqueConstraint("client_id", name=op.f("plugin_system_client_id_key")),
    )
    op.create_index(op.f("ix_plugin_system_department_code"), "plugin_system", ["department_code"])
    op.create_table(
        "plugin_token",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("system_id", sa.String(length=40), nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["system_id"],
            ["plugin_system.system_id"],
            name=op.f("plugin_token_system_id_fkey"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("plugin_token_pkey")),
    )
    op.create_index(op.f("ix_plugin_token_system_id"), "plugin_token", ["system_id"])
    op.create_table(
        "item_handler",
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("handler", sa.String(length=16), nullable=False),
        sa.Column("system_id", sa.String(length=40), nullable=True),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["system_id"], ["plugin_system.system_id"], name=op.f("item_handler_system_id_fkey")
        ),
        sa.PrimaryKeyConstraint("item_code", name=op.f("item_handler_pkey")),
    )
    op.create_table(
        "joint_part",
        sa.Column("part_no", sa.String(length=32), nullable=False),
        sa.Column("joint_no", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("item_name", sa.String(length=200), nullable=False),
        sa.Column("org_code", sa.String(length=32), nullable=False),
        sa.Column("org_name", sa.String(length=200), nullable=False),
        sa.Column("handler", sa.String(length=16), nullable=False),
        sa.Column("system_id", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("limit_days", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("dispatched_at", TZ, nullable=False),
        sa.Column("acked_at", TZ, nullable=True),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.Column("supplement", JSON, nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decision", JSON, nullable=True),
        sa.Column("licence", JSON, nullable=True),
        sa.Column("decided_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(
            ["joint_no"], ["case_file.case_no"], name=op.f("joint_part_joint_no_fkey"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["system_id"], ["plugin_system.system_id"], name=op.f("joint_part_system_id_fkey")
        ),
        sa.PrimaryKeyConstraint("part_no", name=op.f("joint_part_pkey")),
    )
    op.create_index(op.f("ix_joint_part_joint_no"), "joint_part", ["joint_no"])
    op.create_index(
        "ix_joint_part_pending",
        "joint_part",
        ["system_id", "dispatched_at"],
        postgresql_where=sa.text("acked_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_joint_part_pending", table_name="joint_part", postgresql_where=sa.text("acked_at IS NULL")
    )
    op.drop_index(op.f("ix_joint_part_joint_no"), table_name="joint_part")
    op.drop_table("joint_part")
    op.drop_table("item_handler")
    op.drop_index(op.f("ix_plugin_token_system_id"), table_name="plugin_token")
    op.drop_table("plugin_token")
    op.drop_index(op.f("ix_plugin_system_department_code"), table_name="plugin_system")
    op.drop_table("plugin_system")
