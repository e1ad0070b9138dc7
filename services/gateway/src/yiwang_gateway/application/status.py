"""办件状态 as the applicant sees it, and the order statuses may only move in."""

from __future__ import annotations

from typing import Literal

ApplicationStatus = Literal[
    "submitted", "pending_acceptance", "awaiting_supplement", "accepted", "not_accepted", "completed"
]

STATUS_TEXT: dict[str, str] = {
    "submitted": "已提交",
    "pending_acceptance": "待受理",
    "awaiting_supplement": "待补正",
    "accepted": "已受理",
    "not_accepted": "不予受理",
    "completed": "已办结",
}

# Events may be replayed or arrive late; a status only moves to a higher rank. The one step
# back (待补正 → 待受理) is the applicant's own supplement, applied by the portal itself.
_RANK: dict[str, int] = {
    "submitted": 0,
    "pending_acceptance": 1,
    "awaiting_supplement": 2,
    "accepted": 3,
    "not_accepted": 4,
    "completed": 4,
}

OUTCOME_TEXT: dict[str, str] = {"approved": "准予许可", "refused": "不予许可"}


def advances(current: str, new: str) -> bool:
    """Tell whether moving from ``current`` to ``new`` goes forward."""
    return _RANK[new] > _RANK[current]


def behind(new: str) -> list[str]:
    """The statuses a move to ``new`` goes forward from."""
    return [s for s, rank in _RANK.items() if rank < _RANK[new]]


def is_final(status: str) -> bool:
    """Tell whether the case is over (办结 or 不予受理)."""
    return _RANK[status] == 4
