"""REST endpoint of decisions: ``GET /api/v1/cases/{case_no}/decision.pdf``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_business.document.errors import DecisionNotFound
from yiwang_business.document.service import decision_pdf
from yiwang_common.auth import CurrentPrincipal
from yiwang_common.db import get_session
from yiwang_common.documents import DocumentFontMissing
from yiwang_common.http import Unauthorized, problem_responses

router = APIRouter(prefix="/cases", tags=["cases"])

Session = Annotated[AsyncSession, Depends(get_session, scope="function")]


@router.get(
    "/{case_no}/decision.pdf",
    summary="决定书 PDF Decision document",
    response_class=Response,
    responses={
        200: {
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            "description": "A4 决定书 (准予/不予), 中文字体子集内嵌, with the 办件编号 and a QR code to the progress page",
        },
        **problem_responses(Unauthorized, DecisionNotFound, DocumentFontMissing),
    },
)
async def get_decision_pdf(
    request: Request,
    session: Session,
    principal: CurrentPrincipal,
    case_no: Annotated[str, Path(pattern=r"^[0-9A-Za-z]{1,64}$", description="办件编号")],
) -> Response:
    """The decision of a case as a printable PDF: reasons, legal basis, appeal rights and their limits."""
    filename, pdf = await decision_pdf(
        session, case_no=case_no, principal=principal, settings=request.app.state.settings
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )
