"""Pages: ``/me/applications/{application_id}`` (我的办件: the case's timeline and due date) with the
forms of 补正 and 撤回 (``…/correction``, ``…/withdraw``), working without JavaScript.

The same rules as ``POST /api/v1/cases/{case_no}/correction|withdraw``: the portal checks the
case is the citizen's, business decides the rest; a refusal is shown on the page with its status.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from yiwang_common.auth import Principal
from yiwang_common.http.pagination import PageParams
from yiwang_common.http.problems import Problem
from yiwang_common.staff_session import csrf_matches, csrf_token, same_origin
from yiwang_gateway.account.agents import Acting, agent_service
from yiwang_gateway.application.repository import TimelineRepository
from yiwang_gateway.application.service import application_service
from yiwang_gateway.catalogue.service import catalogue_service
from yiwang_gateway.dependencies import GUARDS, SessionDep, SnapshotSessionDep
from yiwang_gateway.draft.formschema import FIELD_PREFIX, coerce, fields_of
from yiwang_gateway.draft.web import upload_material
from yiwang_gateway.handling.client import BusinessClient
from yiwang_gateway.handling.repository import HandlingRepository
from yiwang_gateway.handling.schemas import CorrectionCreate, WithdrawCreate
from yiwang_gateway.handling.service import handling_service
from yiwang_gateway.material.schemas import MaterialSelection
from yiwang_gateway.material.service import material_service
from yiwang_gateway.myspace.service import myspace_service
from yiwang_gateway.myspace.web import COOKIE_NAME, page_principal
from yiwang_gateway.progress.schemas import JointPartSupplementCreate
from yiwang_gateway.progress.service import progress_service
from yiwang_gateway.web.rendering import PageRoute, render

router = APIRouter(tags=["pages"], dependencies=GUARDS, route_class=PageRoute, include_in_schema=False)
ReasonField = Annotated[str, Form(max_length=1000)]
CLOCK_TEXT = {
    "with_applicant": "退回补正，等待您补正",
    "suspended": "挂起",
    "hearing": "听证",
    "testing": "检验检测",
    "expert_review": "专家评审",
    "site_inspection": "现场勘验",
}


def _need_sign_in(request: Request) -> HTMLResponse:
    return render(request, "need_sign_in.html", {"q": ""}, status_code=401)


async def _acting(session: AsyncSession, principal: Principal, action: str) -> Acting:
    return await agent_service.acting(session, principal=principal, action=action)


async def _page(
    request: Request,
    session: AsyncSession,
    acting: Acting,
    application_id: uuid.UUID,
    *,
    error: str = "",
    notice: str = "",
    field_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    app = await application_service.get(session, principal=acting.principal, application_id=application_id)
    timeline = await TimelineRepository.from_session(session).for_application(app.application_id)
    state = await HandlingRepository.from_session(session).get_by_id(app.application_id)
    clock = state.clock if state else None
    withdrawn_at = state.withdrawn_at if state else None
    in_handling = app.status == "accepted" and withdrawn_at is None
    joint_supplements = await _joint_supplements(session, acting, state) if in_handling and state else []
    correction_fields: list[Any] = []
    if in_handling and clock == "with_applicant":
        item = await catalogue_service.for_application(session, item_code=app.item_code)
        correction_fields = fields_of(item.form_schema, app.form, field_errors)
    context = {
        "q": "",
        "app": app,
        "timeline": timeline,
        "clock_text": CLOCK_TEXT.get(clock or "", ""),
        "withdrawn_at": withdrawn_at,
        # A joint case is withdrawn at the window that coordinates it, not part by part here.
        "can_withdraw": in_handling and app.joint_parts is None,
        "correction_fields": correction_fields,
        "joint_supplements": joint_supplements,
        "csrf": csrf_token(request.cookies.get(COOKIE_NAME, "")),
        "error": error,
        "notice": notice,
    }
    return render(request, "case_timeline.html", context, status_code=status_code)


async def _joint_supplements(session: AsyncSession, acting: Acting, state: Any) -> list[dict[str, Any]]:
    """The parts of a joint case whose department waits for a 补正, with what can be handed in."""
    waiting = [p for p in state.joint_parts or [] if p.get("status") == "awaiting_supplement"]
    if not waiting:
        return []
    mine = (
        await myspace_service.materials(
            session, principal=acting.principal, page=PageParams(page=1, limit=50)
        )
    ).items
    forms = []
    for part in waiting:
        try:
            item = await catalogue_service.get(session, item_code=str(part["item_code"]))
        except Problem:
            continue
        forms.append(
            {
                "part_no": part["part_no"],
                "department": part["department"]["name"],
                "item_name": part["item_name"],
                "note": part.get("note") or "",
                "materials": [(m["code"], m["name"]) for m in item.materials],
                "reusable": mine,
            }
        )
    return forms


@router.get("/me/applications/{application_id}", response_class=HTMLResponse)
async def application_page(
    request: Request,
    session: SnapshotSessionDep,
    application_id: uuid.UUID,
    submitted: str = "",
    done: str = "",
) -> HTMLResponse:
    """我的办件: status, 承诺办结日期 and the timeline, in order."""
    principal = page_principal(request)
    if principal is None:
        return _need_sign_in(request)
    acting = await _acting(session, principal, "view")
    notice = (
        "申请已提交。"
        if submitted
        else {
            "withdraw": "撤回申请已提交。",
            "correction": "补正已提交。",
            "part": "补正已提交，已送达提出补正的部门。",
        }.get(done, "")
    )
    return await _page(request, session, acting, application_id, notice=notice)


def _checked(request: Request, csrf: str) -> Principal | None:
    principal = page_principal(request)
    token = request.cookies.get(COOKIE_NAME, "")
    if principal is None or not token:
        return None
    if not same_origin(request.headers.get("origin"), request.url.scheme, request.url.netloc):
        return None
    return principal if csrf_matches(token, csrf) else None


@router.post("/me/applications/{application_id}/withdraw", response_class=HTMLResponse)
async def withdraw_page(
    request: Request,
    session: SessionDep,
    application_id: uuid.UUID,
    csrf: Annotated[str, Form(max_length=128)] = "",
    reason: ReasonField = "",
) -> Response:
    """撤回 from the page."""
    principal = _checked(request, csrf)
    if principal is None:
        return _need_sign_in(request)
    acting = await _acting(session, principal, "withdraw")
    app = await application_service.get(session, principal=acting.principal, application_id=application_id)
    client: BusinessClient = request.app.state.business
    try:
        body = WithdrawCreate(reason=reason.strip())
        await handling_service.withdraw(
            session,
            principal=acting.principal,
            case_no=app.case_no or "",
            body=body,
            client=client,
            token=request.cookies.get(COOKIE_NAME, ""),
        )
    except ValidationError:
        return await _page(
            request, session, acting, application_id, error="请填写撤回原因。", status_code=422
        )
    except Problem as exc:
        return await _page(
            request, session, acting, application_id, error=exc.detail or exc.title, status_code=exc.status
        )
    return RedirectResponse(f"/me/applications/{application_id}?done=withdraw", status_code=303)


@router.post("/me/applications/{application_id}/correction", response_class=HTMLResponse)
async def correction_page(request: Request, session: SessionDep, application_id: uuid.UUID) -> Response:
    """补正 from the page: the form's fields as they should be now, and a note."""
    form = await request.form()
    csrf = form.get("csrf")
    principal = _checked(request, csrf if isinstance(csrf, str) else "")
    if principal is None:
        return _need_sign_in(request)
    acting = await _acting(session, principal, "supplement")
    app = await application_service.get(session, principal=acting.principal, application_id=application_id)
    item = await catalogue_service.for_application(session, item_code=app.item_code)
    posted = {
        k[len(FIELD_PREFIX) :]: v
        for k, v in form.multi_items()
        if k.startswith(FIELD_PREFIX) and isinstance(v, str)
    }
    values, bad = coerce(item.form_schema, posted)
    if bad:
        return await _page(
            request,
            session,
            acting,
            application_id,
            field_errors=bad,
            error="补正内容有误。",
            status_code=422,
        )
    changed = {k: v for k, v in values.items() if app.form.get(k) != v}
    note = form.get("note")
    try:
        body = CorrectionCreate(form=changed, note=(note if isinstance(note, str) else "").strip())
        await handling_service.correct(
            session,
            principal=acting.principal,
            case_no=app.case_no or "",
            body=body,
            client=request.app.state.business,
            token=request.cookies.get(COOKIE_NAME, ""),
        )
    except ValidationError:
        return await _page(
            request, session, acting, application_id, error="请填写补正说明。", status_code=422
        )
    except Problem as exc:
        fields = {e["field"]: e["error"] for e in exc.extra.get("fields", []) if e.get("field")}
        return await _page(
            request,
            session,
            acting,
            application_id,
            field_errors=fields,
            error=exc.detail or exc.title,
            status_code=exc.status,
        )
    return RedirectResponse(f"/me/applications/{application_id}?done=correction", status_code=303)


PartNoPath = Annotated[str, Path(pattern=r"^[0-9A-Za-z]{21}P[0-9]{2}$")]


@router.post("/me/applications/{application_id}/parts/{part_no}/supplement", response_class=HTMLResponse)
async def joint_part_supplement_page(
    request: Request, session: SessionDep, application_id: uuid.UUID, part_no: PartNoPath
) -> Response:
    """联办分件补正 from the page: a material (a new file, or one from 我的材料) and a note, handed to the
    department that asked, as ``POST /api/v1/cases/{joint_no}/parts/{part_no}/supplements``."""
    form = await request.form()
    csrf = form.get("csrf")
    principal = _checked(request, csrf if isinstance(csrf, str) else "")
    if principal is None:
        return _need_sign_in(request)
    acting = await _acting(session, principal, "supplement")
    app = await application_service.get(session, principal=acting.principal, application_id=application_id)
    token = request.cookies.get(COOKIE_NAME, "")
    code, note, reuse, upload = (form.get(k) for k in ("material_code", "note", "reuse", "file"))
    try:
        selections = []
        if isinstance(upload, UploadFile) and upload.filename and isinstance(code, str) and code:
            uploaded = await upload_material(request, upload)
            await material_service.record_upload(session, owner_id=acting.principal.sub, uploaded=uploaded)
            selections.append(MaterialSelection(material_code=code, sha256=uploaded.sha256))
        elif isinstance(reuse, str) and reuse and isinstance(code, str) and code:
            selections.append(MaterialSelection(material_code=code, sha256=reuse))
        body = JointPartSupplementCreate(
            materials=selections, note=(note if isinstance(note, str) else "").strip()
        )
        await progress_service.supplement_joint_part(
            session,
            acting=acting,
            joint_no=app.case_no or "",
            part_no=part_no,
            body=body,
            guides=request.app.state.guides,
            authorization=f"Bearer {token}",
        )
    except ValidationError:
        return await _page(
            request, session, acting, application_id, error="请填写补正说明。", status_code=422
        )
    except Problem as exc:
        return await _page(
            request, session, acting, application_id, error=exc.detail or exc.title, status_code=exc.status
        )
    return RedirectResponse(f"/me/applications/{application_id}?done=part", status_code=303)
