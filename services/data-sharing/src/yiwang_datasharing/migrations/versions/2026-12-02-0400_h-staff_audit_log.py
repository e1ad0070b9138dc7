"""Audit log (审计日志), append-only: a trigger refuses UPDATE, DELETE and TRUNCATE.

Revision ID: h_staff_audit_log
Revises: h_people_base_registries
Create Date: 2026-12-02 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import yiwang_common.db.types

revision: str = "h_staff_audit_log"
down_revision: str | None = "h_people_base_registries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = yiwang_common.db.types.TZDateTime(timezone=True)
JSON = postgresql.JSONB(astext_type=sa.Text())


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("service", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("actor_kind", sa.String(length=20), nullable=True),
        sa.Column("actor_org_code", sa.String(length=18), nullable=True),
        sa.Column("actor_roles", JSON, nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("target_type", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("detail", JSON, nullable=False),
        sa.Column("occurred_at", TZ, nullable=False),
        sa.Column("recorded_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index("ix_audit_entry_region_code_occurred_at", "audit_entry", ["region_code", "occurred_at"])
    # Append-only in the database itself, whatever the application (or a psql session) tries:
    # the owner could drop the trigger, which is a schema change and shows in the migrations.
    op.execute(
        """
        CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '审计日志只可追加，不可修改或删除 (audit_entry is append-only: % refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_entry_no_change BEFORE UPDATE OR DELETE ON audit_entry "
        "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_entry_no_truncate ON audit_entry")
    op.execute("DROP TRIGGER audit_entry_no_change ON audit_entry")
    op.execute("DROP FUNCTION audit_entry_append_only()")
    op.drop_index("ix_audit_entry_region_code_occurred_at", table_name="audit_entry")
    op.drop_table("audit_entry")
