"""监察预警 per due date: a case or step whose due date moves (resumed after 补正, extended, a new holiday
schedule) is warned again as the new date nears; a warning fires once per case, step, level and due date.

Revision ID: warning_per_due_date
Revises: hjf_joint_part_pauses
Create Date: 2026-12-03 18:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "warning_per_due_date"
down_revision: str | None = "hjf_joint_part_pauses"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(
        "supervision_warning_case_no_step_key_level_key", "supervision_warning", type_="unique"
    )
    op.create_unique_constraint(
        "supervision_warning_case_no_step_key_level_due_date_key",
        "supervision_warning",
        ["case_no", "step_key", "level", "due_date"],
    )


def downgrade() -> None:
    # Keeps the latest warning of each case, step and level: the older key allows one.
    op.execute(
        "DELETE FROM supervision_warning w USING supervision_warning n "
        "WHERE n.case_no = w.case_no AND n.step_key = w.step_key AND n.level = w.level AND n.id > w.id"
    )
    op.drop_constraint(
        "supervision_warning_case_no_step_key_level_due_date_key", "supervision_warning", type_="unique"
    )
    op.create_unique_constraint(
        "supervision_warning_case_no_step_key_level_key",
        "supervision_warning",
        ["case_no", "step_key", "level"],
    )
