"""决定书 PDF: the stored decision, its legal basis, the remedies and a QR code to the case's progress.

The text is the stored decision (never re-worded at print time); what the PDF adds is fixed by law:
the legal basis of the outcome (《行政许可法》第三十八条) and the remedies with their time limits
(《行政复议法》第二十条: 60 days; 《行政诉讼法》第四十六条: 6 months), for both outcomes, since
an approval can be contested by an interested party too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from yiwang_business.clock import local_date
from yiwang_common.documents import cjk_pdf, paragraph, qr_image

#: 法律依据 of each outcome.
LEGAL_BASIS: dict[str, str] = {
    "approved": "《中华人民共和国行政许可法》第三十八条第一款：申请人的申请符合法定条件、标准的，行政机关应当依法作出准予行政许可的书面决定。",
    "refused": "《中华人民共和国行政许可法》第三十八条第二款：行政机关依法作出不予行政许可的书面决定的，应当说明理由，并告知申请人享有依法申请行政复议或者提起行政诉讼的权利。",
}
#: 行政复议 and 行政诉讼 time limits, counted from receipt of the decision.
APPEAL_REVIEW_DAYS = 60
APPEAL_LITIGATION_MONTHS = 6


def remedies() -> list[str]:
    """救济途径 Appeal rights and their time limits."""
    return [
        f"如不服本决定，可以自收到本决定书之日起{APPEAL_REVIEW_DAYS}日内，依照《中华人民共和国行政复议法》"
        "第二十条的规定向本机关的本级人民政府申请行政复议；",
        f"或者自收到本决定书之日起{APPEAL_LITIGATION_MONTHS}个月内，依照《中华人民共和国行政诉讼法》"
        "第四十六条的规定直接向人民法院提起行政诉讼。",
        "行政复议或者行政诉讼期间，本决定不停止执行（法律另有规定的除外）。",
    ]


@dataclass(frozen=True)
class DecisionPrint:
    """What one printed 决定书 shows."""

    title: str
    document_no: str
    case_no: str
    item_name: str
    applicant_name: str
    outcome: str
    body: str
    org_name: str
    decider_name: str
    decided_at: datetime
    licence_identifier: str | None
    progress_url: str


def render_decision_pdf(doc: DecisionPrint, font: Path) -> bytes:
    """The A4 决定书 with the CJK font subset embedded and the progress QR code."""
    pdf = cjk_pdf(font, title=f"{doc.title} {doc.document_no}", creator="yiwang 业务办理系统")
    pdf.add_page()
    paragraph(pdf, doc.org_name, size=14, height=9, align="C")
    paragraph(pdf, doc.title, size=18, height=11, align="C")
    paragraph(pdf, doc.document_no, size=11, align="C")
    pdf.ln(2)
    paragraph(pdf, f"办件编号：{doc.case_no}", size=10)
    paragraph(pdf, f"申请事项：{doc.item_name}", size=10)
    pdf.ln(2)
    for text in doc.body.split("\n"):
        paragraph(pdf, text, indent=0)
    if doc.licence_identifier:
        paragraph(pdf, f"电子证照标识：{doc.licence_identifier}", size=9)
    pdf.ln(2)
    paragraph(pdf, "【法律依据】", size=12)
    paragraph(pdf, LEGAL_BASIS.get(doc.outcome, LEGAL_BASIS["refused"]), size=10, indent=4)
    paragraph(pdf, "【救济途径】", size=12)
    for text in remedies():
        paragraph(pdf, text, size=10, indent=4)
    pdf.ln(6)
    paragraph(pdf, doc.org_name, align="R")
    paragraph(pdf, f"{local_date(doc.decided_at):%Y年%m月%d日}", align="R")
    paragraph(pdf, f"承办人：{doc.decider_name}", size=9, align="R")
    # The QR code (bottom left of the last page) opens the case's public progress page.
    top = min(pdf.get_y() + 4, pdf.h - 60)
    qr_image(pdf, doc.progress_url, x=pdf.l_margin, y=top, size=32)
    pdf.set_xy(pdf.l_margin + 36, top + 10)
    pdf.set_font("cjk", size=9)
    pdf.multi_cell(0, 5, f"扫码查询办件进度\n办件编号 {doc.case_no}")
    return bytes(pdf.output())


@lru_cache(maxsize=128)
def cached_pdf(doc: DecisionPrint, font: Path) -> bytes:
    """A decision never changes once made, so its PDF is rendered once per process."""
    return render_decision_pdf(doc, font)
