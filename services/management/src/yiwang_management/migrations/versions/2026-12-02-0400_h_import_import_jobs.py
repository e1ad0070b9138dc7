"""Catalogue imports as background jobs: progress, lease, the stored file, paged errors; row hashes.

Revision ID: h_import_import_jobs
Revises: h_supervision_deadlines
Create Date: 2026-12-02 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import yiwang_common.db.types

revision: str = "h_import_import_jobs"
down_revision: str | None = "h_supervision_deadlines"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = yiwang_common.db.types.TZDateTime(timezone=True)
JSON = postgresql.JSONB(astext_type=sa.Text())
COUNTERS = ("processed_rows", "written_through_row", "write_rows", "error_rows", "error_count", "attempts")


def upgrade() -> None:
    op.add_column("item_version", sa.Column("source_hash", sa.String(length=64), nullable=True))
    # Jobs of the synchronous era were finished in their request; their errors move to the new table.
    op.add_column(
        "catalogue_import", sa.Column("phase", sa.String(length=16), nullable=False, server_default="done")
    )
    for name in COUNTERS:
        op.add_column("catalogue_import", sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    op.add_column(
        "catalogue_import", sa.Column("publish", sa.Boolean(), nullable=False, server_default="false")
    )
    op.add_column("catalogue_import", sa.Column("principal", JSON, nullable=False, server_default="{}"))
    op.add_column("catalogue_import", sa.Column("failure", sa.Text(), nullable=False, server_default=""))
    op.add_column("catalogue_import", sa.Column("started_at", TZ, nullable=True))
    op.add_column("catalogue_import", sa.Column("heartbeat_at", TZ, nullable=True))
    op.alter_column("catalogue_import", "finished_at", existing_type=TZ, nullable=True)
    op.create_index("ix_catalogue_import_status", "catalogue_import", ["status"])
    op.create_table(
        "catalogue_import_error",
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("sheet", sa.String(length=32), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("column", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["catalogue_import.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("job_id", "seq"),
    )
    op.execute(
        """
        INSERT INTO catalogue_import_error (job_id, seq, sheet, "row", "column", reason)
        SELECT i.id, e.ordinality, e.value->>'sheet', (e.value->>'row')::int, e.value->>'column', e.value->>'reason'
        FROM catalogue_import i, jsonb_array_elements(i.errors) WITH ORDINALITY e
        """
    )
    op.execute(
        "UPDATE catalogue_import SET error_count = jsonb_array_length(errors), processed_rows = total_rows"
    )
    op.drop_column("catalogue_import", "errors")
    op.create_table(
        "catalogue_import_file",
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["catalogue_import.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("job_id"),
    )
    for name in ("phase", *COUNTERS, "publish", "principal", "failure"):
        op.alter_column("catalogue_import", name, server_default=None)


def downgrade() -> None:
    op.drop_table("catalogue_import_file")
    op.add_column("catalogue_import", sa.Column("errors", JSON, nullable=False, server_default="[]"))
    op.drop_table("catalogue_import_error")
    op.drop_index("ix_catalogue_import_status", table_name="catalogue_import")
    op.execute("DELETE FROM catalogue_import WHERE finished_at IS NULL")
    op.alter_column("catalogue_import", "finished_at", existing_type=TZ, nullable=False)
    for name in ("heartbeat_at", "started_at", "failure", "principal", "publish", *COUNTERS, "phase"):
        op.drop_column("catalogue_import", name)
    op.alter_column("catalogue_import", "errors", server_default=None)
    op.drop_column("item_version", "source_hash")
