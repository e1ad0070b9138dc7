"""通知书 PDFs the window issues: 受理通知书, 一次性告知书, 不予受理通知书 (ADR 0111).

Each prints the 办件编号 and a QR code to the case's public progress page, with the CJK font
embedded (``yiwang_common.documents``, the same helpers as the 办事指南 and the 决定书). The
text comes from what the case stores; printing never re-decides anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from yiwang_common.contracts.codes import CaseKind
from yiwang_common.documents import cjk_pdf, paragraph, qr_image
from yiwang_management.case.kinds import IntakeRules
from yiwang_management.case.repository import AnyCase
from yiwang_management.shared import local_date

#: 行政复议 and 行政诉讼 time limits, counted from receipt of the notice.
APPEAL_REVIEW_DAYS = 60
APPEAL_LITIGATION_MONTHS = 6

TITLES = {
    "acceptance": "受理通知书",
    "supplement": "一次性告知书",
    "rejection": "不予受理通知书",
}


def remedies() -> list[str]:
    """救济途径 of a refusal: 行政复议 within 60 days, 行政诉讼 within 6 months."""
    return [
        f"如不服本决定，可以自收到本通知书之日起{APPEAL_REVIEW_DAYS}日内，依照《中华人民共和国行政复议法》"
        "的规定申请行政复议；",
        f"或者自收到本通知书之日起{APPEAL_LITIGATION_MONTHS}个月内，依照《中华人民共和国行政诉讼法》"
        "的规定向人民法院提起行政诉讼。",
    ]


@dataclass(frozen=True)
class NoticePrint:
    """What one printed notice shows."""

    title: str
    notice_no: str
    case_no: str
    item_name: str
    applicant_name: str
    org_name: str
    issued_at: datetime
    body: tuple[str, ...]
    listed: tuple[tuple[str, str], ...] = ()
    list_title: str = ""
    remedies: tuple[str, ...] = ()
    progress_url: str = ""
    #: A section after the list (the 联办不予许可告知 of a joint case), before the remedies.
    section_title: str = ""
    section: tuple[str, ...] = ()


def _day(value: date | None) -> str:
    return f"{value:%Y年%m月%d日}" if value else "—"


def acceptance_body(case: AnyCase) -> tuple[list[str], list[tuple[str, str]]]:
    """受理通知书: the acceptance, the case kind's own paragraph and, under 容缺, what is owed."""
    kind = CaseKind.of(case.case_kind) if case.case_kind else CaseKind.PROMISED
    rules = IntakeRules.load(case.intake_rules)
    lines = [
        f"{case.applicant.get('name', '')}：",
        f"您于{_day(local_date(case.submitted_at))}提交的“{case.item_name}”申请（办件编号：{case.case_no}），"
        f"经审查，依据《中华人民共和国行政许可法》第三十二条，本机关决定予以受理。办件类别：{kind.label}。",
    ]
    owed = [(m["name"], m.get("reason", "")) for m in case.pending_materials or []]
    if owed:
        lines.append(
            f"本件为容缺受理（补办件）：下列材料请于{_day(case.pending_due_date)}前补齐。"
            "材料补齐前不作出审批决定，办理时限自材料补齐之日起计算。"
        )
    elif kind is CaseKind.IMMEDIATE:
        lines.append("本件为即办件，当场（当日）办结，不另设办理时限。")
    else:
        lines.append(
            f"办理时限自{_day(case.clock_start)}起计算，承诺办结日期：{_day(case.due_date)}"
            f"（{case.promised_limit_days}个工作日），法定办结日期：{_day(case.statutory_due_date)}。"
        )
        if kind is CaseKind.PROMISED:
            lines.append("本件为承诺件，将在承诺时限内办结，不得随意延长。")
        elif kind is CaseKind.SUPPLEMENTED:
            lines.append("本件为补办件，办理时限自材料补齐之日起计算。")
        elif kind is CaseKind.JOINT:
            orgs = "、".join(rules.co_handling_orgs)
            lines.append(f"本件为联办件，由{case.org_name}牵头，会同{orgs}并联办理，统一出件。")
        elif kind is CaseKind.ESCALATED:
            lines.append(
                f"本件为上报件，经本机关初审后报{rules.decision_org}审批，上报及办结时限以上述日期为准。"
            )
    return lines, owed


def supplement_body(case: AnyCase) -> list[str]:
    """一次性告知书: the stored notice text, every material with its reason and the clock rule."""
    return (case.supplement_notice_text or "").split("\n")


def rejection_body(case: AnyCase) -> list[str]:
    """不予受理通知书: the reason in writing (退回件)."""
    return [
        f"{case.applicant.get('name', '')}：",
        f"您于{_day(local_date(case.submitted_at))}提交的“{case.item_name}”申请（办件编号：{case.case_no}），"
        "经审查，本机关决定不予受理（退回件），理由如下：",
        case.rejection_reason or "",
    ]


def render_notice_pdf(doc: NoticePrint, font: Path) -> bytes:
    """The A4 notice with the CJK font subset embedded and the progress QR code."""
    pdf = cjk_pdf(font, title=f"{doc.title} {doc.notice_no}", creator="yiwang 政务服务管理平台")
    pdf.add_page()
    paragraph(pdf, doc.org_name, size=14, height=9, align="C")
    paragraph(pdf, doc.title, size=18, height=11, align="C")
    paragraph(pdf, doc.notice_no, size=11, align="C")
    pdf.ln(2)
    paragraph(pdf, f"办件编号：{doc.case_no}", size=10)
    paragraph(pdf, f"申请事项：{doc.item_name}", size=10)
    paragraph(pdf, f"申请人：{doc.applicant_name}", size=10)
    pdf.ln(2)
    for text in doc.body:
        paragraph(pdf, text)
    if doc.listed:
        paragraph(pdf, doc.list_title, size=12)
        for n, (name, reason) in enumerate(doc.listed, start=1):
            paragraph(pdf, f"{n}. {name}" + (f"（{reason}）" if reason else ""), size=10, indent=4)
    if doc.section:
        paragraph(pdf, doc.section_title, size=12)
        for text in doc.section:
            paragraph(pdf, text, size=10, indent=4)
    if doc.remedies:
        paragraph(pdf, "【救济途径】", size=12)
        for text in doc.remedies:
            paragraph(pdf, text, size=10, indent=4)
    pdf.ln(6)
    paragraph(pdf, doc.org_name, align="R")
    paragraph(pdf, _day(local_date(doc.issued_at)), align="R")
    top = min(pdf.get_y() + 4, pdf.h - 60)
    qr_image(pdf, doc.progress_url, x=pdf.l_margin, y=top, size=32)
    pdf.set_xy(pdf.l_margin + 36, top + 10)
    pdf.set_font("cjk", size=9)
    pdf.multi_cell(0, 5, f"扫码查询办件进度\n办件编号 {doc.case_no}")
    return bytes(pdf.output())
