"""Rules of decisions: the 决定书 text and its number."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal, Protocol

from yiwang_business.clock import local_date
from yiwang_business.db import transient
from yiwang_business.decision.models import Decision
from yiwang_common.contracts.common import DecisionDocument, Organisation

Outcome = Literal["approved", "refused"]

TITLES: dict[Outcome, str] = {"approved": "准予行政许可决定书", "refused": "不予行政许可决定书"}


class DecidedCase(Protocol):
    """What a 决定书 says of its case (task's ``BusinessCase`` is one).

    A protocol rather than the model keeps decision below task: task decides, and decision
    never imports it back.
    """

    @property
    def case_no(self) -> str: ...
    @property
    def item_name(self) -> str: ...
    @property
    def org_code(self) -> str: ...
    @property
    def org_name(self) -> str: ...
    @property
    def accepted_at(self) -> datetime: ...
    @property
    def applicant_name(self) -> str: ...


def decision_body(case: DecidedCase, outcome: Outcome, opinion: str) -> str:
    """Write the decision text; a refusal states its reasons and the remedies (《行政许可法》第三十八条)."""
    head = f"{case.applicant_name}：\n你（单位）于{local_date(case.accepted_at):%Y年%m月%d日}提出的{case.item_name}申请（办件编号 {case.case_no}），本机关已依法受理。"
    if outcome == "approved":
        return (
            f"{head}经审查，该申请符合法定条件、标准。根据《中华人民共和国行政许可法》第三十八条第一款的规定，"
            f"决定准予行政许可。\n审查意见：{opinion}"
        )
    return (
        f"{head}经审查，该申请不符合法定条件、标准，理由如下：{opinion}\n"
        "根据《中华人民共和国行政许可法》第三十八条第二款的规定，决定不予行政许可。"
        "如不服本决定，可以自收到本决定书之日起六十日内依法申请行政复议，或者六个月内依法向人民法院提起行政诉讼。"
    )


def to_document(decision: Decision) -> DecisionDocument:
    """Render a stored decision as the contract's value object."""
    return DecisionDocument(
        document_no=decision.document_no,
        title=decision.title,
        body=decision.body,
        decided_at=decision.decided_at,
        decider_name=decision.decider_name,
        org=Organisation(name=decision.org_name, code=decision.org_code),
    )


def decision_period(now: datetime) -> str:
    """The period of the 决定书 counter: the local year."""
    return str(local_date(now).year)


def decision_counter(case: DecidedCase, now: datetime) -> tuple[str, str, str]:
    """The counter that numbers a unit's 决定书 of a year (the completing statement of a 决定 step draws it too)."""
    return ("decision", case.org_code, decision_period(now))


def build_decision(
    case: DecidedCase,
    *,
    outcome: Outcome,
    opinion: str,
    prefix: str,
    decider_id: str,
    decider_name: str,
    now: datetime,
    serial: int,
) -> Decision:
    """Write the 决定书 numbered ``serial`` (not yet stored; never added to a session)."""
    year = local_date(now).year
    # A value written by the decision's own statement, never added to a session (``transient``).
    return transient(
        Decision,
        {
            "id": uuid.uuid4(),
            "case_no": case.case_no,
            "outcome": outcome,
            "document_no": f"{prefix}〔{year}〕第{serial:06d}号",
            "title": TITLES[outcome],
            "body": decision_body(case, outcome, opinion),
            "decided_at": now,
            "decider_id": decider_id,
            "decider_name": decider_name,
            "org_code": case.org_code,
            "org_name": case.org_name,
        },
    )
