"""Deny by default: what a verified caller may read (ADR 0013, ADR 0105).

One rule for the four services:

- **Applicants** (申请人) read their own cases; an authorised agent (经办人, ``acting_for``) also
  reads the cases of the legal person they act for.
- **Handling staff** (收件人 receiver, 受理人 acceptor, 审查人 reviewer, 决定人 approver, 送件人
  deliverer) read the cases of the items **their unit** (``org_code``) implements **in their
  region** (``region``).
- **Supervisors** (电子监察) read every case of their region.
- **Centre administrators** (中心管理员) manage staff and posts; they read personal data of their
  region only with a **reason** (查阅事由, header ``X-Access-Reason`` or parameter ``reason``),
  and every such read is audited. Without one the answer is 403 ``reason_required``.
- Everyone else (service tokens, staff without a unit or a region) reads nothing.

A region covers every region code that starts with its prefix once trailing ``00`` pairs are
dropped (530400 玉溪市 covers 530428 元江县). A token without a ``region`` claim falls back to
positions 3-8 of the unit's 统一社会信用代码 (the registering authority's 行政区划代码).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, Header, Query

from yiwang_common.auth import (
    ROLE_ACCEPTOR,
    ROLE_ADMIN,
    ROLE_APPROVER,
    ROLE_DELIVERER,
    ROLE_RECEIVER,
    ROLE_REVIEWER,
    ROLE_SUPERVISOR,
    STAFF_ROLES,
    Principal,
)
from yiwang_common.http.problems import Forbidden

#: Roles that handle cases of their own unit (the guideline's review rules, 审核规则).
HANDLING_ROLES = frozenset({ROLE_RECEIVER, ROLE_ACCEPTOR, ROLE_REVIEWER, ROLE_APPROVER, ROLE_DELIVERER})

#: 统一社会信用代码 (GB 32100): 登记管理部门 (1) + 机构类别 (1) + 登记管理机关行政区划码 (6) + …
_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}([0-9]{6})[0-9A-HJ-NPQRTUWXY]{10}$")
_REGION = re.compile(r"^[0-9]{6}$")

#: How a client states why an administrator reads personal data (查阅事由).
REASON_HEADER = "X-Access-Reason"


class ReasonRequired(Forbidden):
    """An administrator asked for personal data without saying why."""

    code = "reason_required"
    title = "查阅个人信息须填写事由 (a reason is required to read personal data)"


def is_staff(principal: Principal) -> bool:
    """Tell whether the caller holds any staff role (窗口受理、审查、决定、监察、管理)."""
    return principal.kind == "staff" and bool(principal.roles & STAFF_ROLES)


def region_of_org(org_code: str | None) -> str | None:
    """The 行政区划代码 a unit is registered in, read from its 统一社会信用代码 (positions 3-8)."""
    match = _USCC.match(org_code or "")
    return match.group(1) if match else None


def region_prefix(region_code: str) -> str:
    """The prefix every region inside ``region_code`` shares: 530000 → 53, 530400 → 5304."""
    prefix = region_code
    while len(prefix) > 2 and prefix.endswith("00"):
        prefix = prefix[:-2]
    return prefix


def region_of(principal: Principal) -> str | None:
    """The staff member's region: the token's ``region`` claim, else the unit's registration."""
    if principal.region and _REGION.match(principal.region):
        return principal.region
    return region_of_org(principal.org_code)


def covers(region_code: str, other: str) -> bool:
    """Whether ``other`` lies in (or is) ``region_code``."""
    return other.startswith(region_prefix(region_code))


@dataclass(frozen=True)
class ReadScope:
    """What one caller may read.

    ``applicant_ids`` are the accounts whose cases are the caller's own (theirs, and the legal
    person's an agent acts for); ``org_code`` with ``region_prefix`` the unit's cases in the
    region; ``region_prefix`` alone (no ``org_code``) every case of the region.
    """

    applicant_ids: tuple[str, ...] = ()
    org_code: str | None = None
    region_prefix: str | None = None
    #: The reason an administrator gave; set only on an administrator's scope.
    reason: str | None = None

    @property
    def is_empty(self) -> bool:
        """True when the caller may read nothing at all."""
        return not self.applicant_ids and self.org_code is None and self.region_prefix is None

    @property
    def region_wide(self) -> bool:
        """True for a supervisor's or administrator's scope: every unit of the region."""
        return self.org_code is None and self.region_prefix is not None

    def admits(self, *, applicant_id: str | None, org_code: str | None, region_code: str | None) -> bool:
        """Whether one record (its applicant, implementing unit and region) is in scope."""
        if applicant_id is not None and applicant_id in self.applicant_ids:
            return True
        if self.region_prefix is None or region_code is None:
            return False
        if not region_code.startswith(self.region_prefix):
            return False
        return self.org_code is None or self.org_code == org_code


def scope_of(principal: Principal, *, reason: str | None = None) -> ReadScope:
    """The read scope a verified token grants (deny by default).

    Args:
        principal: the caller.
        reason: the reason an administrator gave for reading personal data, if any.

    Returns:
        The scope.

    Raises:
        ReasonRequired: for an administrator (with no other reading role) who gave no reason.
    """
    if principal.kind in ("natural_person", "legal_person"):
        own = [principal.sub]
        if principal.acting_for:
            # An agent (经办人) reads the cases of the legal person whose account id is the code.
            own.append(principal.acting_for)
        return ReadScope(applicant_ids=tuple(own))
    if not is_staff(principal):
        return ReadScope()
    region = region_of(principal)
    if region is None:
        return ReadScope()
    prefix = region_prefix(region)
    if principal.has_role(ROLE_SUPERVISOR):
        return ReadScope(region_prefix=prefix)
    if principal.roles & HANDLING_ROLES:
        return (
            ReadScope(org_code=principal.org_code, region_prefix=prefix)
            if principal.org_code
            else ReadScope()
        )
    if principal.has_role(ROLE_ADMIN):
        if not reason:
            raise ReasonRequired(
                "中心管理员查阅个人信息须说明事由（请求头 X-Access-Reason 或参数 reason），查阅将记入审计日志"
            )
        return ReadScope(region_prefix=prefix, reason=reason)
    return ReadScope()


def handling_scope(principal: Principal) -> ReadScope:
    """The cases a staff member may act on: their unit's in their region, never region-wide.

    Only the handling roles (收件人、受理人、审查人、决定人、送件人) act on cases; a supervisor or an
    administrator acts on none, whatever they may read.
    """
    region = region_of(principal) if is_staff(principal) else None
    if region is None or not principal.org_code or not principal.roles & HANDLING_ROLES:
        return ReadScope()
    return ReadScope(org_code=principal.org_code, region_prefix=region_prefix(region))


async def access_reason(
    header: Annotated[
        str | None,
        Header(
            alias=REASON_HEADER,
            max_length=200,
            description="查阅事由: why an administrator reads personal data (recorded in the audit log)",
        ),
    ] = None,
    reason: Annotated[
        str | None,
        Query(max_length=200, description="查阅事由, as the header (for links); the header wins"),
    ] = None,
) -> str | None:
    """FastAPI dependency: the reason given for reading personal data, trimmed, or None.

    A header carries only Latin-1, so a Chinese reason travels percent-encoded (UTF-8).
    """
    text = unquote(header).strip() if header else (reason or "").strip()
    return text or None


#: The reason parameter of a route that serves personal data.
AccessReason = Annotated[str | None, Depends(access_reason)]
