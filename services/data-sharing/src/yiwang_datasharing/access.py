"""Who may read what in the data-sharing platform (ADR 0013).

An applicant reads the records, materials and licences of their own cases. Staff read those of
the items their unit implements (实施主体); a supervisor (电子监察) also reads those of every item
in the region their unit belongs to. Nobody else reads anything, and "not yours" is answered
exactly like "not there" (404), as management and business do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from yiwang_common.auth import ROLE_SUPERVISOR, STAFF_ROLES, Principal

#: 统一社会信用代码 (GB 32100): 登记管理部门 (1) + 机构类别 (1) + 登记管理机关行政区划码 (6) + …
_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}([0-9]{6})[0-9A-HJ-NPQRTUWXY]{10}$")


def is_staff(principal: Principal) -> bool:
    """Tell whether the caller holds any staff role (窗口受理、审查、决定、监察、管理)."""
    return bool(principal.roles & STAFF_ROLES)


def region_of_org(org_code: str | None) -> str | None:
    """The 行政区划代码 a unit is registered in, read from its 统一社会信用代码 (positions 3-8)."""
    match = _USCC.match(org_code or "")
    return match.group(1) if match else None


def region_prefix(region_code: str) -> str:
    """The prefix every region inside ``region_code`` shares: 530000 → 53, 530400 → 5304.

    A province or prefecture code ends in ``00`` pairs (GB/T 2260); the regions below it share
    the digits before them, so a prefecture's supervisor covers all its counties.
    """
    prefix = region_code
    while len(prefix) > 2 and prefix.endswith("00"):
        prefix = prefix[:-2]
    return prefix


@dataclass(frozen=True)
class ReadScope:
    """What one caller may read: their own cases, their unit's items, their region's items."""

    applicant_id: str | None = None
    org_code: str | None = None
    region_prefix: str | None = None

    @property
    def is_empty(self) -> bool:
        """True when the caller may read nothing at all."""
        return self.applicant_id is None and self.org_code is None and self.region_prefix is None


def scope_of(principal: Principal) -> ReadScope:
    """The read scope a verified token grants."""
    if not is_staff(principal):
        # Staff accounts never apply; an applicant token is the only way to one's own cases.
        return ReadScope(applicant_id=principal.sub) if principal.kind != "service" else ReadScope()
    region = region_of_org(principal.org_code) if principal.has_role(ROLE_SUPERVISOR) else None
    return ReadScope(
        org_code=principal.org_code or None,
        region_prefix=region_prefix(region) if region else None,
    )
