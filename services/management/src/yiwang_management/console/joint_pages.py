"""Pages of 联办 under ``/console/manage/joint`` (ADR 0121): the open joint cases a staff member may
follow, and the parallel view (并联视图) of one joint case — every department's part with the system
that handles it, its state, its own limit with 红黄灯, its last report — and, once every part has
decided, the one combined result and its notice (a PDF, ``…/notice.pdf``).

Read-only, so no form and no CSRF; the same sign-in as the other console pages. Deny by default:
the coordinating window's staff, the parts' departments and the region's supervisors (ADR 0105);
a joint case of another region, or anyone else, is "not there" (404).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from yiwang_common.documents import find_font
from yiwang_common.masking import mask_identifier, mask_name
from yiwang_common.web.console import Staff
from yiwang_management.case.endpoints import pdf_response
from yiwang_management.console.endpoints import Session
from yiwang_management.console.rendering import PREFIX, PageRoute, render
from yiwang_management.joint import service as joint
from yiwang_management.joint.errors import JointCaseNotFound

router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)
JointNoPath = Annotated[str, Path(pattern=r"^[0-9A-Za-z]{21}$")]


@router.get("/joint", response_class=HTMLResponse)
async def joint_list(
    request: Request,
    session: Session,
    staff: Staff,
    show: Annotated[str, Query(pattern="^(open|all)$")] = "open",
) -> HTMLResponse:
    """联办件: the joint cases this staff member may follow, newest first, with how many parts decided."""
    rows = await joint.joint_case_list(session, staff, open_only=show == "open")
    return render(
        request,
        "joint_list.html",
        {
            "rows": [
                {
                    "case": case,
                    "parts": parts,
                    "decided": sum(p.status in joint.DECIDED for p in parts),
                    "departments": "、".join(p.org_name for p in parts),
                }
                for case, parts in rows
            ],
            "show": show,
        },
    )


async def _view(request: Request, session: Session, staff: Staff, joint_no: str) -> joint.ParallelView:
    settings = request.app.state.settings
    view = await joint.parallel_view(
        session,
        joint_no,
        principal=staff,
        calendar=request.app.state.calendar,
        warn_days=settings.supervision.step_warn_days,
    )
    if view is None:
        raise JointCaseNotFound(f"联办件 {joint_no} 不存在")
    return view


@router.get("/joint/{joint_no}", response_class=HTMLResponse)
async def parallel_page(
    request: Request, session: Session, staff: Staff, joint_no: JointNoPath
) -> HTMLResponse:
    """并联视图: every department's part side by side, and the combined result when complete."""
    view = await _view(request, session, staff, joint_no)
    applicant = view.case.applicant
    return render(
        request,
        "joint_case.html",
        {
            "view": view,
            "applicant_name": mask_name(
                str(applicant.get("name", "")), kind=str(applicant.get("kind", "natural_person"))
            ),
            "applicant_id": mask_identifier(
                str(applicant.get("id_number", "")), id_type=applicant.get("id_type")
            ),
            "result": view.case.decision if view.case.status == "completed" else None,
        },
    )


@router.get("/joint/{joint_no}/notice.pdf")
async def combined_notice(
    request: Request, session: Session, staff: Staff, joint_no: JointNoPath
) -> Response:
    """联办结果告知书 (with the 联办不予许可告知 when a part was refused) as a PDF, for the hall to print."""
    settings = request.app.state.settings
    filename, pdf = await joint.notice_pdf(
        session,
        joint_no,
        principal=staff,
        reason=None,
        progress_url=settings.progress_url(joint_no),
        font=find_font(settings.guide_font_path),
        source=request.app.state.runtime.source,
    )
    return pdf_response(filename, pdf)
