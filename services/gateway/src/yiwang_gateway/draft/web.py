"""Pages: ``/items/{item_code}/apply`` and ``/me/drafts/{draft_id}`` — the application form generated
from the item's form schema and materials (ADR 0115), saved as a draft, submitted; and the htmx
fragment ``/me/drafts/{draft_id}/materials/{material_code}`` (upload or reuse one material in place).

Without JavaScript one multipart form does everything: the fields, a file per material (uploaded
through data-sharing with the citizen's own token, as ``POST /api/v1/materials`` does), a choice of
an earlier upload (复用我的材料), and the buttons 保存草稿 / 提交申请. With htmx the upload and the
reuse of one material refresh that material's fieldset only, keeping what was typed. Errors from the
schema check (``jsonschema``, zh-CN) stand next to their fields; the page session and CSRF rules
are those of ``myspace.web``.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile

from yiwang_common.auth import Principal
from yiwang_common.contracts.common import MaterialRequirement
from yiwang_common.http.pagination import PageParams
from yiwang_common.http.problems import NotFound, Problem
from yiwang_common.staff_session import csrf_matches, csrf_token, same_origin
from yiwang_gateway.account.agents import Acting, agent_service
from yiwang_gateway.application.errors import FormInvalid
from yiwang_gateway.catalogue.service import catalogue_service
from yiwang_gateway.dependencies import GUARDS, SessionDep
from yiwang_gateway.draft.formschema import FIELD_PREFIX, coerce, errors_by_field, fields_of
from yiwang_gateway.draft.schemas import DraftContent, DraftCreate, DraftView
from yiwang_gateway.draft.service import draft_service
from yiwang_gateway.material.client import DataSharingClient
from yiwang_gateway.material.schemas import MaterialSelection, MaterialUploaded
from yiwang_gateway.material.service import material_service
from yiwang_gateway.myspace.service import myspace_service
from yiwang_gateway.myspace.web import COOKIE_NAME, page_principal
from yiwang_gateway.web.rendering import PageRoute, render

router = APIRouter(tags=["pages"], dependencies=GUARDS, route_class=PageRoute, include_in_schema=False)
ItemCode = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z]+$")]
MaterialCode = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_-]+$")]
#: Reusable earlier uploads offered per material (the newest first).
REUSE_LIMIT = 50


class PageFormRejected(Problem):
    """A page POST without this session's form token or from another origin (CSRF)."""

    status = 400
    code = "form_rejected"
    title = "表单已过期或来源不明，请刷新页面后重新提交"


def _need_sign_in(request: Request) -> HTMLResponse:
    return render(request, "need_sign_in.html", {"q": ""}, status_code=401)


async def _acting(session: AsyncSession, principal: Principal) -> Acting:
    return await agent_service.acting(session, principal=principal, action="apply")


def _check_form(request: Request, form: FormData) -> None:
    token = request.cookies.get(COOKIE_NAME, "")
    submitted = form.get("csrf")
    origin_ok = same_origin(request.headers.get("origin"), request.url.scheme, request.url.netloc)
    if not (origin_ok and token and isinstance(submitted, str) and csrf_matches(token, submitted)):
        raise PageFormRejected("表单已过期或来源不明，请刷新页面后重新提交")


async def _materials_view(
    session: AsyncSession, acting: Acting, requirements: list[dict[str, Any]], chosen: list[MaterialSelection]
) -> list[dict[str, Any]]:
    mine = (
        await myspace_service.materials(
            session, principal=acting.principal, page=PageParams(page=1, limit=REUSE_LIMIT)
        )
    ).items
    by_sha = {m.sha256: m for m in mine}
    views = []
    for i, raw in enumerate(requirements):
        req = MaterialRequirement.model_validate(raw)
        picked = [s for s in chosen if s.material_code == req.code]
        files = [
            {
                "sha256": s.sha256,
                "name": (by_sha[s.sha256].filename if s.sha256 in by_sha else None) or s.sha256[:12],
            }
            for s in picked
        ]
        reusable = [
            m
            for m in mine
            if m.media_type in req.media_types
            and m.size <= req.max_bytes
            and m.sha256 not in {s.sha256 for s in picked}
        ]
        views.append(
            {
                "index": i,
                "req": req,
                "files": files,
                "reusable": reusable,
                "accept": ",".join(req.media_types),
            }
        )
    return views


async def _page(
    request: Request,
    session: AsyncSession,
    acting: Acting,
    item: Any,
    *,
    draft: DraftView | None,
    form: dict[str, Any],
    chosen: list[MaterialSelection],
    field_errors: dict[str, str] | None = None,
    messages: list[str] | None = None,
    notice: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "q": "",
        "item": item,
        "draft": draft,
        "action_url": f"/me/drafts/{draft.draft_id}" if draft else f"/items/{item.item_code}/apply",
        "fields": fields_of(item.form_schema, form, field_errors),
        "materials": await _materials_view(session, acting, item.materials, chosen),
        "messages": messages or [],
        "notice": notice,
        "csrf": csrf_token(request.cookies.get(COOKIE_NAME, "")),
        "form_title": str(item.form_schema.get("title") or "申请表"),
    }
    return render(request, "apply.html", context, status_code=status_code)


async def _upload(request: Request, upload: UploadFile) -> MaterialUploaded:
    """Send one file to data-sharing as the citizen (their own token), like ``POST /api/v1/materials``."""
    client: DataSharingClient = request.app.state.datasharing
    cap: int = request.app.state.settings.max_upload_bytes
    content = await upload.read(cap + 1)
    if len(content) > cap:
        raise FormInvalid(f"文件「{upload.filename}」超过 {cap} 字节")
    headers = {"authorization": f"Bearer {request.cookies.get(COOKIE_NAME, '')}"}
    files = {
        "file": (upload.filename or "material", content, upload.content_type or "application/octet-stream")
    }
    try:
        upstream = await client.http.post("/api/v1/materials", files=files, headers=headers)
    except Exception as exc:  # transport failures: the page says so, the draft keeps the rest
        raise FormInvalid("材料上传失败：无法连接数据共享平台，请稍后再试") from exc
    if upstream.status_code not in (200, 201):
        try:
            detail = str(upstream.json().get("detail") or upstream.json().get("title"))
        except ValueError:
            detail = f"数据共享平台返回 {upstream.status_code}"
        raise FormInvalid(f"材料上传失败：{detail}")
    return MaterialUploaded.model_validate_json(upstream.content)


#: The same upload for the other pages that take a file (a joint part's 补正).
upload_material = _upload


async def _apply_materials(
    request: Request,
    session: AsyncSession,
    acting: Acting,
    form: FormData,
    item: Any,
    only: str | None = None,
) -> list[MaterialSelection]:
    """Kept choices (``keep``), an earlier upload per material (``reuse.<code>``), new files (``file.<code>``)."""
    chosen: list[MaterialSelection] = []
    for value in form.getlist("keep"):
        if isinstance(value, str) and ":" in value:
            code, _, sha = value.partition(":")
            try:
                chosen.append(MaterialSelection(material_code=code, sha256=sha))
            except ValidationError:
                continue
    for raw in item.materials:
        code = raw["code"]
        if only is not None and code != only:
            continue
        reuse = form.get(f"reuse.{code}")
        if isinstance(reuse, str) and reuse:
            try:
                chosen.append(MaterialSelection(material_code=code, sha256=reuse))
            except ValidationError:
                pass
        upload = form.get(f"file.{code}")
        if isinstance(upload, UploadFile) and upload.filename:
            uploaded = await _upload(request, upload)
            await material_service.record_upload(session, owner_id=acting.principal.sub, uploaded=uploaded)
            chosen.append(MaterialSelection(material_code=code, sha256=uploaded.sha256))
    return list({(c.material_code, c.sha256): c for c in chosen}.values())


def _posted_fields(form: FormData) -> dict[str, str]:
    return {
        k[len(FIELD_PREFIX) :]: v
        for k, v in form.multi_items()
        if k.startswith(FIELD_PREFIX) and isinstance(v, str)
    }


@router.get("/items/{item_code}/apply", response_class=HTMLResponse)
async def apply_page(request: Request, session: SessionDep, item_code: ItemCode) -> HTMLResponse:
    """在线申请: the item's form and materials, empty."""
    principal = page_principal(request)
    if principal is None:
        return _need_sign_in(request)
    acting = await _acting(session, principal)
    acting.check_item(item_code)
    item = await catalogue_service.for_application(session, item_code=item_code)
    return await _page(request, session, acting, item, draft=None, form={}, chosen=[])


@router.get("/me/drafts/{draft_id}", response_class=HTMLResponse)
async def draft_page(request: Request, session: SessionDep, draft_id: uuid.UUID, saved: str = "") -> Response:
    """申请草稿: reopen a saved draft (another account's is not found)."""
    principal = page_principal(request)
    if principal is None:
        return _need_sign_in(request)
    acting = await _acting(session, principal)
    draft = await draft_service.get(session, principal=acting.principal, draft_id=draft_id)
    if draft.application_id is not None:
        return RedirectResponse(f"/me/applications/{draft.application_id}", status_code=303)
    item = await catalogue_service.for_application(session, item_code=draft.item_code)
    return await _page(
        request,
        session,
        acting,
        item,
        draft=draft,
        form=draft.form,
        chosen=draft.materials,
        notice="草稿已保存。" if saved else "",
    )


async def _post(
    request: Request, session: AsyncSession, item_code: str | None, draft_id: uuid.UUID | None
) -> Response:
    principal = page_principal(request)
    if principal is None:
        return _need_sign_in(request)
    form = await request.form()
    _check_form(request, form)
    acting = await _acting(session, principal)
    draft = (
        None
        if draft_id is None
        else await draft_service.get(session, principal=acting.principal, draft_id=draft_id)
    )
    code = draft.item_code if draft else str(item_code)
    acting.check_item(code)
    item = await catalogue_service.for_application(session, item_code=code)
    values, bad = coerce(item.form_schema, _posted_fields(form))
    action = form.get("action")
    try:
        chosen = await _apply_materials(request, session, acting, form, item)
    except Problem as exc:
        return await _page(
            request,
            session,
            acting,
            item,
            draft=draft,
            form=values,
            chosen=[],
            messages=[exc.detail or exc.title],
            field_errors=bad,
            status_code=exc.status,
        )
    try:
        content = DraftContent(form=values, materials=chosen)
        if draft is None:
            draft = await draft_service.create(
                session, principal=acting.principal, body=DraftCreate(item_code=code, **content.model_dump())
            )
        else:
            draft = await draft_service.save(
                session, principal=acting.principal, draft_id=draft.draft_id, body=content
            )
    except Problem as exc:
        return await _page(
            request,
            session,
            acting,
            item,
            draft=None if draft_id is None else draft,
            form=values,
            chosen=chosen,
            messages=[exc.detail or exc.title],
            field_errors=bad,
            status_code=exc.status,
        )
    if action != "submit":
        return RedirectResponse(f"/me/drafts/{draft.draft_id}?saved=1", status_code=303)
    if bad:
        # The draft keeps what could be kept; the fields that are not even of their type are named.
        return await _page(
            request,
            session,
            acting,
            item,
            draft=draft,
            form=values,
            chosen=chosen,
            field_errors=bad,
            messages=["申请表有误，请按提示修改后再提交。"],
            status_code=422,
        )
    try:
        # A savepoint: a refused submission undoes only itself, the saved draft stays (the request commits).
        async with session.begin_nested():
            receipt = await draft_service.submit(
                session,
                principal=acting.principal,
                draft_id=draft.draft_id,
                source=request.app.state.runtime.source,
                agent=acting.agent,
            )
    except Problem as exc:
        # The draft stays saved; the page shows every error next to its field.
        field_errors, general = errors_by_field(list(exc.extra.get("fields", [])))
        return await _page(
            request,
            session,
            acting,
            item,
            draft=draft,
            form=values,
            chosen=chosen,
            field_errors=field_errors,
            messages=["申请表有误，请按提示修改后再提交。", *general]
            if field_errors
            else general or [exc.detail or exc.title],
            status_code=exc.status,
        )
    return RedirectResponse(f"/me/applications/{receipt.application_id}?submitted=1", status_code=303)


@router.post("/items/{item_code}/apply", response_class=HTMLResponse)
async def apply_post(request: Request, session: SessionDep, item_code: ItemCode) -> Response:
    """保存草稿 or 提交申请 of a new application (the draft is created either way)."""
    return await _post(request, session, item_code, None)


@router.post("/me/drafts/{draft_id}", response_class=HTMLResponse)
async def draft_post(request: Request, session: SessionDep, draft_id: uuid.UUID) -> Response:
    """保存草稿 or 提交申请 of a saved draft."""
    return await _post(request, session, None, draft_id)


@router.post("/me/drafts/{draft_id}/materials/{material_code}", response_class=HTMLResponse)
async def material_fragment(
    request: Request, session: SessionDep, draft_id: uuid.UUID, material_code: MaterialCode
) -> Response:
    """htmx: upload or reuse one material of the draft; answers that material's fieldset only."""
    principal = page_principal(request)
    if principal is None:
        return _need_sign_in(request)
    form = await request.form()
    _check_form(request, form)
    acting = await _acting(session, principal)
    draft = await draft_service.get(session, principal=acting.principal, draft_id=draft_id)
    item = await catalogue_service.for_application(session, item_code=draft.item_code)
    if material_code not in {m["code"] for m in item.materials}:
        raise NotFound(f"事项材料 {material_code} 不存在")
    error = ""
    others = [m for m in draft.materials if m.material_code != material_code]
    try:
        mine = await _apply_materials(request, session, acting, form, item, only=material_code)
        draft = await draft_service.save(
            session,
            principal=acting.principal,
            draft_id=draft_id,
            body=DraftContent(form=draft.form, materials=[*others, *mine]),
        )
    except Problem as exc:
        error = exc.detail or exc.title
    views = await _materials_view(session, acting, item.materials, draft.materials)
    view = next(v for v in views if v["req"].code == material_code)
    return render(
        request,
        "_apply_material.html",
        {
            "m": view,
            "draft": draft,
            "csrf": csrf_token(request.cookies.get(COOKIE_NAME, "")),
            "material_error": error,
        },
        status_code=200 if not error else 422,
    )
