"""联办结果告知书: the one combined notice of a joint case (ADR 0121), as a PDF like the other notices.

Printed with ``case.documents`` (CJK font embedded, the 办件编号 and a QR code to the public progress
page). When a department refused its part, the same document carries the one 联办不予许可告知 —
each refused part with its reason — and the 救济途径 of a refusal. The text comes from what the
joint case stores; printing never re-decides anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from yiwang_management.case import documents
from yiwang_management.case.models import Case
from yiwang_management.joint.models import JointPart
from yiwang_management.shared import local_date

TITLE = "联办结果告知书"
REFUSAL_TITLE = "【联办不予许可告知】"


def _day(value: date | None) -> str:
    return f"{value:%Y年%m月%d日}" if value else "—"


def notice_print(case: Case, parts: Sequence[JointPart], progress_url: str) -> documents.NoticePrint:
    """What the combined notice of a completed joint case prints."""
    assert case.completed_at is not None and case.decision is not None
    refused = [p for p in parts if p.outcome == "refused"]
    departments = "、".join(p.org_name for p in parts)
    body = [
        f"{case.applicant.get('name', '')}：",
        f"您于{_day(local_date(case.submitted_at))}提交的“{case.item_name}”联办申请（办件编号：{case.case_no}），"
        f"由{case.org_name}一次收件，{departments}并联办理，现已全部办结，统一告知办理结果如下。",
    ]
    if not refused:
        body.append("各部门均已准予许可，许可决定书及证照由各部门依法出具，可在政务服务网“我的办件”中查看。")
    listed = [
        (
            f"{p.org_name}「{p.item_name}」",
            f"准予许可，{(p.decision or {}).get('document_no', '')}".rstrip("，")
            if p.outcome == "approved"
            else "不予许可",
        )
        for p in parts
    ]
    section: list[str] = []
    if refused:
        section = [
            "经审查，下列部门对您申请的事项决定不予许可，理由如下：",
            *(
                f"{n}. {p.org_name}「{p.item_name}」：{p.reason or '不予许可'}"
                for n, p in enumerate(refused, start=1)
            ),
        ]
        if len(refused) < len(parts):
            section.append("其余事项已准予许可。")
    return documents.NoticePrint(
        title=TITLE,
        notice_no=str(case.decision.get("document_no", f"{case.case_no}-联办")),
        case_no=case.case_no,
        item_name=case.item_name,
        applicant_name=str(case.applicant.get("name", "")),
        org_name=case.org_name,
        issued_at=case.completed_at,
        body=tuple(body),
        listed=tuple(listed),
        list_title="【各部门办理结果】",
        section_title=REFUSAL_TITLE if refused else "",
        section=tuple(section),
        remedies=tuple(documents.remedies()) if refused else (),
        progress_url=progress_url,
    )
