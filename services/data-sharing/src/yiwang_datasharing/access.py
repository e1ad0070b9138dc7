"""Who may read what: staff see every record, everyone else only their own."""

from __future__ import annotations

from yiwang_common.auth import STAFF_ROLES, Principal


def is_staff(principal: Principal) -> bool:
    """Tell whether the caller holds any staff role (窗口受理、审查、决定、监察、管理)."""
    return bool(principal.roles & STAFF_ROLES)
