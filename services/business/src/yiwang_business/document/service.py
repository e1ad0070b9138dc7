"""Who may print a 决定书, and what the print shows (the rules behind ``GET …/decision.pdf``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_business.config import Settings
from yiwang_business.document.errors import DecisionNotFound
from yiwang_business.document.rendering import DecisionPrint, cached_pdf
from yiwang_business.document.repository import DocumentRepository
from yiwang_common.auth import STAFF_ROLES, Principal
from yiwang_common.documents import find_font


async def decision_pdf(
    session: AsyncSession, *, case_no: str, principal: Principal, settings: Settings
) -> tuple[str, bytes]:
    """The 决定书 PDF of a case, for staff of the deciding unit or the applicant; (filename, bytes).

    Anyone else is answered as if there were no decision (ADR 0013).
    """
    found = await DocumentRepository.from_session(session).decision_with_case(case_no)
    if found is None:
        raise DecisionNotFound(f"办件 {case_no} 尚无决定书")
    decision, case, licence_identifier = found
    staff = bool(principal.roles & STAFF_ROLES) and principal.org_code == decision.org_code
    applicant = not principal.is_staff and principal.sub == str(case.applicant.get("account_id", ""))
    if not (staff or applicant):
        raise DecisionNotFound(f"办件 {case_no} 尚无决定书")
    doc = DecisionPrint(
        title=decision.title,
        document_no=decision.document_no,
        case_no=decision.case_no,
        item_name=case.item_name,
        applicant_name=case.applicant_name,
        outcome=decision.outcome,
        body=decision.body,
        org_name=decision.org_name,
        decider_name=decision.decider_name,
        decided_at=decision.decided_at,
        licence_identifier=licence_identifier,
        progress_url=settings.progress_url(decision.case_no),
    )
    return f"{decision.case_no}-decision.pdf", cached_pdf(doc, find_font(settings.document_font_path))
