"""Pages under ``/console/manage``: the catalogue list, a version (edit a draft, workflow buttons)
and the spreadsheet import with its row errors (ADR 0016).

Staff arrive signed in: the ``yiwang_staff`` cookie holds the token the gateway issued, verified
here from the gateway's JWKS like a bearer token. CSRF: every POST carries a token bound to the
session (``yiwang_common.staff_session.csrf_token``), its ``Origin`` (when sent) must be this
origin, and the cookie is SameSite=Strict — three layers, each enough on its own.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import Principal
from yiwang_common.db import get_session
from yiwang_common.http.problems import PayloadTooLarge, ValidationFailed
from yiwang_common.staff_session import (
    COOKIE_NAME,
    COOKIE_PATH,
    CSRF_FIELD,
    REFRESH_COOKIE_NAME,
    REFRESH_COOKIE_PATH,
)
from yiwang_common.web.console import Staff, check_form as _check_form
from yiwang_management.catalogue import imports, service as catalogue
from yiwang_management.catalogue.endpoints import IMPORT_FORMATS, IMPORT_FORMATS_TEXT, MAX_IMPORT_BYTES
from yiwang_management.catalogue.models import STATUS_NAMES, ItemVersion
from yiwang_management.console import service
from yiwang_management.console.rendering import PREFIX, PageRoute, render

Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
ItemCodePath = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[0-9A-Z]+$")]
VersionPath = Annotated[int, Path(ge=1, le=1_000_000)]
CsrfField = Annotated[str, Form(alias=CSRF_FIELD, max_length=128)]


router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)


def _version_url(version: ItemVersion) -> str:
    return f"{PREFIX}/items/{version.item_code}/versions/{version.version}"


@router.get("/", response_class=HTMLResponse)
async def catalogue_list(
    request: Request,
    session: Session,
    staff: Staff,
    status: Annotated[str, Query(pattern="^(|" + "|".join(STATUS_NAMES) + ")$")] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """事项清单: versions of the staff's body (the centre: every body's), filtered by status."""
    org_code = None if catalogue.is_centre(staff) else staff.org_code or ""
    limit = 50
    versions, total = await catalogue.list_versions(
        session, org_code=org_code, status=status or None, page=page, limit=limit
    )
    names = {e.basic_code: e.name for e in await catalogue.list_entries(session)}
    rows = [
        {"version": v, "name": names.get(v.basic_code, v.basic_code), "status_name": STATUS_NAMES[v.status]}
        for v in versions
    ]
    return render(
        request,
        "list.html",
        {
            "rows": rows,
            "total": total,
            "status": status,
            "statuses": STATUS_NAMES,
            "page": page,
            "pages": max(1, -(-total // limit)),
            "centre": catalogue.is_centre(staff),
        },
    )


async def _version_page(
    request: Request,
    session: AsyncSession,
    staff: Principal,
    version: ItemVersion,
    *,
    errors: list[str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    entry = await catalogue.get_entry(session, version.basic_code)
    content = version.content
    fee = (content.get("fees") or [{}])[0]
    values = form or {
        "statutory_limit_days": str(content.get("statutory_limit_days", "")),
        "promised_limit_days": str(content.get("promised_limit_days", "")),
        "conditions": "\n".join(content.get("conditions", [])),
        "materials": "\n".join(m["name"] for m in content.get("materials", [])),
        "fee_charged": "on" if content.get("fee_charged") else "",
        "fee_standard": fee.get("standard", ""),
        "fee_basis": fee.get("basis", ""),
        "place": content.get("place", ""),
        "hours": content.get("hours", ""),
        "enquiry_phone": content.get("enquiry_phone", ""),
    }
    return render(
        request,
        "version.html",
        {
            "version": version,
            "entry": entry,
            "content": content,
            "status_name": STATUS_NAMES[version.status],
            "editable": service.can_edit(version, staff),
            "actions": service.actions(version, staff),
            "history": await catalogue.history(session, version.item_code),
            "statuses": STATUS_NAMES,
            "values": values,
            "errors": errors or [],
            "url": _version_url(version),
        },
        status_code=status_code,
    )


@router.get("/items/{item_code}/versions/{number}", response_class=HTMLResponse)
async def version_page(
    request: Request, session: Session, staff: Staff, item_code: ItemCodePath, number: VersionPath
) -> HTMLResponse:
    """实施清单版本: the elements, the history and what this staff member may do with it."""
    version = await catalogue.get_version(session, item_code, number)
    return await _version_page(request, session, staff, version)


@router.post("/items/{item_code}/versions/{number}/edit", response_class=HTMLResponse)
async def edit_draft(
    request: Request,
    session: Session,
    staff: Staff,
    item_code: ItemCodePath,
    number: VersionPath,
    csrf: CsrfField,
) -> Response:
    """保存草稿: the form's elements through the one schema and ``update_draft``'s rules."""
    _check_form(request, csrf)
    raw = await request.form()
    form = {k: str(v)[:20_000] for k, v in raw.items() if isinstance(v, str) and k != CSRF_FIELD}
    version = await catalogue.get_version(session, item_code, number)
    try:
        content = service.edited_content(version.content, form)
    except ValidationError as exc:
        return await _version_page(
            request, session, staff, version, errors=service.error_messages(exc), form=form, status_code=422
        )
    updated = await catalogue.update_draft(session, item_code, number, content, staff)
    return RedirectResponse(_version_url(updated) + "?saved=1", status_code=303)


@router.post("/items/{item_code}/versions/{number}/{action}")
async def transition(
    request: Request,
    session: Session,
    staff: Staff,
    item_code: ItemCodePath,
    number: VersionPath,
    action: Annotated[str, Path(pattern="^(submit|approve|publish|return|withdraw)$")],
    csrf: CsrfField,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """The workflow buttons; each goes through the catalogue service, which checks role and state."""
    _check_form(request, csrf)
    source = request.app.state.runtime.source
    if action == "submit":
        version = await catalogue.submit(session, item_code, number, staff)
    elif action == "approve":
        version = await catalogue.approve(session, item_code, number, staff)
    elif action == "publish":
        version = await catalogue.publish(session, item_code, number, staff, source=source)
    elif action == "return":
        version = await catalogue.send_back(session, item_code, number, note.strip(), staff)
    else:
        version = await catalogue.withdraw(session, item_code, number, note.strip(), staff, source=source)
    return RedirectResponse(_version_url(version), status_code=303)


@router.get("/imports/new", response_class=HTMLResponse)
async def import_form(request: Request, staff: Staff) -> HTMLResponse:
    """导入实施清单: the upload form."""
    return render(request, "import.html", {"job": None, "centre": catalogue.is_centre(staff)})


@router.post("/imports", response_class=HTMLResponse)
async def upload(
    request: Request,
    session: Session,
    staff: Staff,
    file: Annotated[UploadFile, File()],
    csrf: CsrfField,
    force: Annotated[bool, Form()] = False,
    publish: Annotated[bool, Form()] = False,
) -> Response:
    """Store the file and queue its import; htmx gets the job fragment in place (it polls the
    job), a plain form the job page (with a refresh link)."""
    _check_form(request, csrf)
    filename = (file.filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200]
    file_format = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if file_format not in IMPORT_FORMATS:
        raise ValidationFailed(IMPORT_FORMATS_TEXT)
    data = await file.read(MAX_IMPORT_BYTES + 1)
    if not data:
        raise ValidationFailed("文件为空")
    if len(data) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(f"文件最大 {MAX_IMPORT_BYTES // (1024 * 1024)} MB")
    job = await imports.submit_import(
        session,
        filename=filename,
        file_format=file_format,
        data=data,
        principal=staff,
        force=force,
        publish=publish,
    )
    request.app.state.import_worker.notify_after_commit(session)
    url = f"{PREFIX}/imports/{job.id}"
    if request.headers.get("HX-Request") == "true":
        response = render(request, "_job.html", service.job_view(job, [], 0, errors_page=1))
        response.headers["HX-Push-Url"] = url
        return response
    return RedirectResponse(url, status_code=303)


@router.get("/imports/{job_id}", response_class=HTMLResponse)
async def import_job(
    request: Request,
    session: Session,
    staff: Staff,
    job_id: uuid.UUID,
    errors_page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """导入任务: live progress while it runs (htmx polls this fragment), then the counts and the
    row errors, a page at a time."""
    job = await imports.get_import(session, job_id, staff)
    errors, total = await imports.import_errors_of(
        session, job.id, page=errors_page, limit=service.ERRORS_PER_PAGE
    )
    context = service.job_view(job, errors, total, errors_page=errors_page)
    template = "_job.html" if request.headers.get("HX-Request") == "true" else "import.html"
    return render(request, template, context | {"centre": catalogue.is_centre(staff)})


@router.post("/sign-out")
async def sign_out(request: Request, csrf: CsrfField) -> Response:
    """退出登录: the cookie is the staff origin's, so any console half may drop it."""
    _check_form(request, csrf)
    response = RedirectResponse(request.app.state.settings.console_sign_in_url, status_code=303)
    secure = request.url.scheme == "https"
    response.delete_cookie(COOKIE_NAME, path=COOKIE_PATH, secure=secure, httponly=True, samesite="strict")
    # Without the refresh token the gateway's sign-in page cannot renew the session either.
    response.delete_cookie(
        REFRESH_COOKIE_NAME, path=REFRESH_COOKIE_PATH, secure=secure, httponly=True, samesite="strict"
    )
    return response
