"""Pages under ``/console/manage/staff`` and ``/console/manage/organisation``: the centre
administrator (中心管理员) manages staff and their posts (ADR 0105).

Same sign-in, cookie and CSRF layers as the catalogue pages (ADR 0021); every change goes through
the organisation service, so the checks, the StaffAssigned event and the audit record are the
API's. Supervisors (电子监察) see the pages read-only.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from yiwang_common.auth import ROLE_ADMIN, ROLE_SUPERVISOR, Principal
from yiwang_common.http import Forbidden
from yiwang_common.http.problems import ValidationFailed
from yiwang_common.web.console import Staff, check_form
from yiwang_management.console.endpoints import CsrfField, Session
from yiwang_management.console.rendering import PREFIX, PageRoute, render
from yiwang_management.organisation import service as organisation
from yiwang_management.organisation.schemas import PostCreate, StaffCreate

router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)

ROLE_NAMES = {
    "receiver": "收件人",
    "acceptor": "受理人",
    "reviewer": "审查人",
    "approver": "决定人",
    "deliverer": "送件人",
    "supervisor": "电子监察",
    "admin": "中心管理员",
}
StaffIdPath = Annotated[uuid.UUID, Path()]


def _reader(staff: Principal) -> None:
    if not staff.roles & {ROLE_ADMIN, ROLE_SUPERVISOR}:
        raise Forbidden("工作人员与岗位管理仅供中心管理员和电子监察使用")


def _admin(staff: Principal) -> None:
    if not staff.has_role(ROLE_ADMIN):
        raise Forbidden("只有中心管理员可以管理工作人员和岗位")


def _invalid(exc: ValidationError) -> ValidationFailed:
    fields = "、".join(str(e["loc"][-1]) for e in exc.errors())
    return ValidationFailed(f"请检查以下内容：{fields}")


@router.get("/staff", response_class=HTMLResponse)
async def staff_list(request: Request, session: Session, staff: Staff) -> HTMLResponse:
    """工作人员: the staff of the caller's region, their posts and roles, and the form to add one."""
    _reader(staff)
    members, total = await organisation.list_staff(session, staff, org_code=None, offset=0, limit=100)
    departments = await organisation.list_departments(session, staff, region_code=None)
    return render(
        request,
        "staff_list.html",
        {
            "members": members,
            "total": total,
            "departments": departments,
            "roles": ROLE_NAMES,
            "admin": staff.has_role(ROLE_ADMIN),
        },
    )


@router.post("/staff")
async def staff_create(
    request: Request,
    session: Session,
    staff: Staff,
    csrf: CsrfField,
    username: Annotated[str, Form(max_length=64)],
    name: Annotated[str, Form(max_length=200)],
    org_code: Annotated[str, Form(max_length=18)],
) -> Response:
    """新建工作人员, then on to their page to give them posts."""
    check_form(request, csrf)
    _admin(staff)
    try:
        body = StaffCreate(username=username.strip(), name=name.strip(), org_code=org_code.strip())
    except ValidationError as exc:
        raise _invalid(exc) from exc
    created = await organisation.create_staff(session, staff, body, source=request.app.state.runtime.source)
    return RedirectResponse(f"{PREFIX}/staff/{created.id}", status_code=303)


@router.get("/staff/{staff_id}", response_class=HTMLResponse)
async def staff_detail(
    request: Request, session: Session, staff: Staff, staff_id: StaffIdPath
) -> HTMLResponse:
    """工作人员详情: their posts, and every post of their department to choose from."""
    _reader(staff)
    member = await organisation.get_staff(session, staff, staff_id)
    posts = await organisation.list_posts(session, staff, member.org_code)
    held = {p.id for p in member.posts}
    return render(
        request,
        "staff_detail.html",
        {
            "member": member,
            "posts": posts,
            "held": held,
            "roles": ROLE_NAMES,
            "admin": staff.has_role(ROLE_ADMIN),
        },
    )


@router.post("/staff/{staff_id}/posts")
async def staff_posts(
    request: Request,
    session: Session,
    staff: Staff,
    staff_id: StaffIdPath,
    csrf: CsrfField,
    post_id: Annotated[list[uuid.UUID] | None, Form()] = None,
) -> Response:
    """分配岗位: the checked posts from now on; the staff member's next sign-in carries the roles."""
    check_form(request, csrf)
    _admin(staff)
    await organisation.assign_posts(
        session, staff, staff_id, post_id or [], source=request.app.state.runtime.source
    )
    return RedirectResponse(f"{PREFIX}/staff/{staff_id}", status_code=303)


@router.post("/staff/{staff_id}/deactivate")
async def staff_deactivate(
    request: Request, session: Session, staff: Staff, staff_id: StaffIdPath, csrf: CsrfField
) -> Response:
    """停用: no posts, no roles; the gateway ends the member's sessions and refuses their sign-in."""
    check_form(request, csrf)
    _admin(staff)
    await organisation.deactivate_staff(session, staff, staff_id, source=request.app.state.runtime.source)
    return RedirectResponse(f"{PREFIX}/staff/{staff_id}", status_code=303)


@router.get("/organisation", response_class=HTMLResponse)
async def organisation_page(request: Request, session: Session, staff: Staff) -> HTMLResponse:
    """组织机构: regions, departments and their windows and posts, and the form to add a post."""
    _reader(staff)
    regions = await organisation.list_regions(session, staff)
    departments = await organisation.list_departments(session, staff, region_code=None)
    posts = {d.org_code: await organisation.list_posts(session, staff, d.org_code) for d in departments}
    return render(
        request,
        "organisation.html",
        {
            "regions": regions,
            "departments": departments,
            "posts": posts,
            "roles": ROLE_NAMES,
            "admin": staff.has_role(ROLE_ADMIN),
        },
    )


@router.post("/organisation/departments/{org_code}/posts")
async def post_create(
    request: Request,
    session: Session,
    staff: Staff,
    org_code: Annotated[str, Path(pattern=r"^[0-9A-Z]{18}$")],
    csrf: CsrfField,
    code: Annotated[str, Form(max_length=32)],
    name: Annotated[str, Form(max_length=100)],
    kind: Annotated[str, Form(max_length=8)],
    role: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """新建窗口 / 岗位 of a department."""
    check_form(request, csrf)
    _admin(staff)
    try:
        body = PostCreate.model_validate(
            {"code": code.strip(), "name": name.strip(), "kind": kind, "roles": role or []}
        )
    except ValidationError as exc:
        raise _invalid(exc) from exc
    await organisation.create_post(session, staff, org_code, body)
    return RedirectResponse(f"{PREFIX}/organisation", status_code=303)
