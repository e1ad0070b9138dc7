"""The case lifecycle (办件生命周期): statuses, the moves between them, and the projections' order.

Management owns a case's status and moves it only along :data:`TRANSITIONS`. The gateway and
data-sharing project the status from events, which may arrive late or be replayed; both apply
the one rule of :func:`supersedes`: a status replaces the projected one when it is in a later
:func:`stage`, or in the same stage and no older. Stage 1 holds the one loop of the lifecycle
(待受理 ⇄ 待补正: a one-time notice, then the applicant's supplement), which only the event
times can order.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType


class CaseStatus(StrEnum):
    """办件状态. The values are the wire and database spelling."""

    SUBMITTED = "submitted"
    PENDING_ACCEPTANCE = "pending_acceptance"
    AWAITING_SUPPLEMENT = "awaiting_supplement"
    ACCEPTED = "accepted"
    NOT_ACCEPTED = "not_accepted"
    COMPLETED = "completed"

    @property
    def label(self) -> str:
        """The status's Chinese name, e.g. 待受理."""
        return LABELS[self]


LABELS: Mapping[str, str] = MappingProxyType(
    {
        CaseStatus.SUBMITTED: "已提交",
        CaseStatus.PENDING_ACCEPTANCE: "待受理",
        CaseStatus.AWAITING_SUPPLEMENT: "待补正",
        CaseStatus.ACCEPTED: "已受理",
        CaseStatus.NOT_ACCEPTED: "不予受理",
        CaseStatus.COMPLETED: "已办结",
    }
)

#: from → {to: the action that makes the move}. 已提交 is the portal's status before management
#: registers the case; 不予受理 and 已办结 are final. 已受理 → 不予受理 is only for a 容缺受理 case
#: whose owed material never came by its date (容缺逾期退回, a 退回件; ADR 0119): management
#: allows it while materials are owed, before the case ever reaches the department.
TRANSITIONS: Mapping[CaseStatus, Mapping[CaseStatus, str]] = MappingProxyType(
    {
        CaseStatus.SUBMITTED: {CaseStatus.PENDING_ACCEPTANCE: "登记"},
        CaseStatus.PENDING_ACCEPTANCE: {
            CaseStatus.ACCEPTED: "受理",
            CaseStatus.AWAITING_SUPPLEMENT: "出具补正告知",
            CaseStatus.NOT_ACCEPTED: "不予受理",
        },
        CaseStatus.AWAITING_SUPPLEMENT: {
            CaseStatus.PENDING_ACCEPTANCE: "补正",
            CaseStatus.NOT_ACCEPTED: "不予受理",
        },
        CaseStatus.ACCEPTED: {CaseStatus.COMPLETED: "办结", CaseStatus.NOT_ACCEPTED: "容缺逾期退回"},
        CaseStatus.NOT_ACCEPTED: {},
        CaseStatus.COMPLETED: {},
    }
)

_STAGE: Mapping[CaseStatus, int] = MappingProxyType(
    {
        CaseStatus.SUBMITTED: 0,
        CaseStatus.PENDING_ACCEPTANCE: 1,
        CaseStatus.AWAITING_SUPPLEMENT: 1,
        CaseStatus.ACCEPTED: 2,
        CaseStatus.NOT_ACCEPTED: 3,
        CaseStatus.COMPLETED: 3,
    }
)

FINAL: frozenset[CaseStatus] = frozenset(s for s, moves in TRANSITIONS.items() if not moves)


def can_move(current: str, new: str) -> bool:
    """Tell whether the lifecycle allows the move from ``current`` to ``new``.

    Args:
        current: the case's status.
        new: the status an action would give it.

    Returns:
        True when :data:`TRANSITIONS` has the move.
    """
    return CaseStatus(new) in TRANSITIONS[CaseStatus(current)]


def stage(status: str) -> int:
    """Return the status's place in the projections' order (0 已提交 … 3 final).

    Args:
        status: a case status.

    Returns:
        The stage; statuses of one stage are ordered by their event time.
    """
    return _STAGE[CaseStatus(status)]


def supersedes(current: str, current_at: datetime | None, new: str, new_at: datetime) -> bool:
    """Tell whether a projection replaces ``current`` (known since ``current_at``) with ``new``.

    Args:
        current: the projected status.
        current_at: the time of the event that set it; None when unknown (then ``new`` wins ties).
        new: the status an event reports.
        new_at: that event's time.

    Returns:
        True for a later stage, or the same stage and an event no older than the current one.
    """
    s_current, s_new = stage(current), stage(new)
    if s_new != s_current:
        return s_new > s_current
    return current_at is None or new_at >= current_at


def before(new: str) -> frozenset[CaseStatus]:
    """The statuses of earlier stages, which ``new`` always replaces.

    Args:
        new: a case status.

    Returns:
        Every status whose stage is lower.
    """
    s = stage(new)
    return frozenset(k for k, v in _STAGE.items() if v < s)


def level_with(new: str) -> frozenset[CaseStatus]:
    """The statuses of ``new``'s stage, which it replaces when its event is no older.

    Args:
        new: a case status.

    Returns:
        Every status of the same stage, ``new`` included.
    """
    s = stage(new)
    return frozenset(k for k, v in _STAGE.items() if v == s)


__all__ = [
    "FINAL",
    "LABELS",
    "TRANSITIONS",
    "CaseStatus",
    "before",
    "can_move",
    "level_with",
    "stage",
    "supersedes",
]
