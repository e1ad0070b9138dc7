"""办件状态 as the applicant sees it. The lifecycle and its order are the contracts' (one definition)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from yiwang_common.contracts.lifecycle import LABELS

ApplicationStatus = Literal[
    "submitted", "pending_acceptance", "awaiting_supplement", "accepted", "not_accepted", "completed"
]

STATUS_TEXT: Mapping[str, str] = LABELS

OUTCOME_TEXT: dict[str, str] = {"approved": "准予许可", "refused": "不予许可"}
