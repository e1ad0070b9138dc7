"""办件状态 as the applicant sees it. The lifecycle and its order are the contracts' (one definition)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from yiwang_common.contracts.lifecycle import LABELS

ApplicationStatus = Literal[
    "submitted", "pending_acceptance", "awaiting_supplement", "accepted", "not_accepted", "completed"
]

STATUS_TEXT: Mapping[str, str] = LABELS

OUTCOME_TEXT: dict[str, str] = {"approved": "准予许可", "refused": "不予许可"}

#: 容缺受理 (ADR 0119): accepted while a non-key material is still owed; the clock waits for it.
ACCEPTED_MATERIALS_OWED_TEXT = "已受理（容缺待补）"


def status_text(status: str, missing_materials: Sequence[Any] | None = None) -> str:
    """The status as the applicant reads it: 已受理（容缺待补） while a 容缺 material is owed."""
    if status == "accepted" and missing_materials:
        return ACCEPTED_MATERIALS_OWED_TEXT
    return STATUS_TEXT[status]


#: 联办分件状态 as the applicant reads it (ADR 0121).
PART_STATUS_TEXT: dict[str, str] = {
    "dispatched": "已分派",
    "in_progress": "办理中",
    "awaiting_supplement": "待补正",
    "approved": "准予许可",
    "refused": "不予许可",
}
