"""六件管理: the 办件类别 of a case and the intake rules of each (seed rules §1.4, ADR 0111).

An item's guide says what kind of case it makes: 办件类型 即办件 (GB/T 39046 A.6 code 1), 联办机构
(co-handling departments), 上报审批机关 (a higher level decides) and 容缺受理 (non-key materials may
follow acceptance). The rules are copied onto the case at registration, like its material list,
so a later version of the item cannot change a case already in the hall.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from yiwang_common.contracts.codes import CaseKind

#: Guide elements (办事指南要素) the rules read.
JOINT_ORGS = "联办机构"
DECISION_ORG = "上报审批机关"
DEFERRED_ACCEPTANCE = "容缺受理"
#: A 联办件 involves at least this many departments, the lead included (004: "两个以上部门";
#: 003 篇5 says three or more windows; the lower threshold keeps every joint item joint).
JOINT_MIN_DEPARTMENTS = 2


@dataclass(frozen=True, slots=True)
class IntakeRules:
    """What the item says about intake: instant, joint, escalated, and whether 容缺 is allowed."""

    instant: bool = False
    co_handling_orgs: tuple[str, ...] = ()
    decision_org: str | None = None
    deferred_acceptance: bool = False

    @classmethod
    def of_item(cls, case_type: str, guide: Mapping[str, Any] | None) -> IntakeRules:
        """The rules of an item version: its 办件类型 code and its guide elements."""
        guide = guide or {}
        orgs = guide.get(JOINT_ORGS) or []
        decision_org = guide.get(DECISION_ORG)
        return cls(
            instant=case_type == "1",
            co_handling_orgs=tuple(str(o) for o in orgs) if isinstance(orgs, list) else (str(orgs),),
            decision_org=str(decision_org) if decision_org else None,
            deferred_acceptance=guide.get(DEFERRED_ACCEPTANCE) in ("是", True),
        )

    @classmethod
    def load(cls, stored: Mapping[str, Any] | None) -> IntakeRules:
        """The rules as stored on a case (None for cases registered before the rules existed)."""
        if not stored:
            return cls()
        return cls(
            instant=bool(stored.get("instant")),
            co_handling_orgs=tuple(stored.get("co_handling_orgs") or ()),
            decision_org=stored.get("decision_org"),
            deferred_acceptance=bool(stored.get("deferred_acceptance")),
        )

    def dump(self) -> dict[str, Any]:
        """The JSON stored on the case."""
        data = asdict(self)
        data["co_handling_orgs"] = list(self.co_handling_orgs)
        return data

    @property
    def joint(self) -> bool:
        """Whether the item involves several departments (联办件)."""
        return len(self.co_handling_orgs) + 1 >= JOINT_MIN_DEPARTMENTS


def kind_at_registration(rules: IntakeRules) -> CaseKind:
    """The kind an application makes when it is received: 联办 > 上报 > 即办 > 承诺."""
    if rules.joint:
        return CaseKind.JOINT
    if rules.decision_org:
        return CaseKind.ESCALATED
    return CaseKind.IMMEDIATE if rules.instant else CaseKind.PROMISED


def kind_at_acceptance(rules: IntakeRules, *, supplemented: bool, deferred: bool) -> CaseKind:
    """The kind a case is accepted as.

    A joint or escalated case stays what it is (its own notice and routing matter more); any
    other case whose materials were completed after the first visit, by a one-time notice or
    under 容缺, is a 补办件, whose clock counts from the day the materials were complete.
    """
    kind = kind_at_registration(rules)
    if kind in (CaseKind.JOINT, CaseKind.ESCALATED):
        return kind
    return CaseKind.SUPPLEMENTED if supplemented or deferred else kind


def limit_days(kind: CaseKind, promised_limit_days: int) -> int:
    """承诺时限 the clock runs: a 即办件 is decided the same day (no clock beyond it)."""
    return 0 if kind is CaseKind.IMMEDIATE else promised_limit_days


def kind_name(code: str | None) -> str | None:
    """The Chinese name of a stored 办件类别 code."""
    return CaseKind.of(code).label if code else None
