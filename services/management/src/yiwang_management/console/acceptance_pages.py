"""Pages of window acceptance under ``/console/manage/acceptance`` (ADR 0111): the acceptance queue,
a case with its actions (受理, 容缺受理, 不予受理, 容缺材料补齐), the one-time notice composer
(choose the materials and reasons → preview → issue), the notice PDFs and window intake.

Same sign-in, cookie and CSRF layers as the other console pages (ADR 0016, 0021); every action
goes through the case service, so the rules, events and audit are the API's.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from yiwang_common.auth import ROLE_ACCEPTOR, ROLE_RECEIVER, Principal
from yiwang_common.documents import find_font
from yiwang_common.http import Forbidden
from yiwang_common.http.problems import ValidationFailed
from yiwang_common.masking import mask_id_number
from yiwang_common.staff_session import CSRF_FIELD
from yiwang_common.web.console import Staff, check_form
from yiwang_management.case import intake, kinds, notices, service as case_service
from yiwang_management.case.endpoints import pdf_response
from yiwang_management.case.errors import (
    AgentMismatch,
    CreditCodeInvalid,
    IdNumberInvalid,
    IntakeMaterialInvalid,
)
from yiwang_management.case.models import STATUS_TEXT
from yiwang_management.case.schemas import (
    AcceptRequest,
    CaseDetail,
    CaseSummary,
    DeferredMaterial,
    NoticeKind,
    NoticeMaterial,
    RejectRequest,
    WindowIntakeRequest,
)
from yiwang_management.console.endpoints import Session
from yiwang_management.console.rendering import PREFIX, PageRoute, render
from yiwang_management.item.repository import ItemRepository

router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)
CaseNoPath = Annotated[str, Path(pattern=r"^[0-9A-Za-z]{1,32}$")]
QUEUE_STATUSES = {k: STATUS_TEXT[k] for k in ("pending_acceptance", "awaiting_supplement", "accepted")}
FORM_LIMIT = 20_000


def _acceptor(staff: Principal) -> None:
    if not staff.has_role(ROLE_ACCEPTOR):
        raise Forbidden("只有受理人可以受理、告知或不予受理")


def _intake(staff: Principal) -> None:
    if not staff.roles & {ROLE_ACCEPTOR, ROLE_RECEIVER}:
        raise Forbidden("只有收件人或受理人可以窗口收件")


def _invalid(exc: ValidationError) -> ValidationFailed:
    fields = "、".join(str(e["loc"][-1]) for e in exc.errors() if e["loc"]) or "表单"
    return ValidationFailed(f"请检查以下内容：{fields}")


async def _form(request: Request) -> dict[str, list[str]]:
    """The posted fields (every value of each name), checked against CSRF first."""
    raw = await request.form()
    values: dict[str, list[str]] = {}
    for key, value in raw.multi_items():
        if isinstance(value, str):
            values.setdefault(key, []).append(value[:FORM_LIMIT])
    check_form(request, (values.get(CSRF_FIELD) or [""])[0])
    return values


def _one(form: dict[str, list[str]], name: str) -> str:
    return (form.get(name) or [""])[0].strip()


def _case_url(case_no: str) -> str:
    return f"{PREFIX}/acceptance/{case_no}"


@router.get("/acceptance", response_class=HTMLResponse)
async def queue(
    request: Request,
    session: Session,
    staff: Staff,
    status: Annotated[str, Query(pattern="^(pending_acceptance|awaiting_supplement|accepted)$")] = (
        "pending_acceptance"
    ),
) -> HTMLResponse:
    """受理队列: the unit's cases waiting at the window, oldest concern first (newest registered first)."""
    rows, total = await case_service.list_case_summaries(
        session, staff, status=status, item_code=None, offset=0, limit=200
    )
    return render(
        request,
        "acceptance_queue.html",
        {
            "cases": [CaseSummary.from_case(r) for r in rows],
            "total": total,
            "status": status,
            "statuses": QUEUE_STATUSES,
        },
    )


async def _case_page(
    request: Request, session: Session, staff: Principal, case_no: str, *, extra: dict[str, Any] | None = None
) -> HTMLResponse:
    case = await case_service.read_case(
        session, case_no, staff, reason=None, source=request.app.state.runtime.source
    )
    detail = CaseDetail.build(case, await case_service.case_steps(session, case))
    rules = kinds.IntakeRules.load(case.intake_rules)
    missing = {m.code for m in detail.missing_materials}
    present = {m.material_code for m in detail.materials}
    checklist = [
        {
            "code": r["code"],
            "name": r["name"],
            "required": r.get("required", True),
            "deferrable": bool(r.get("deferrable")),
            "present": r["code"] in present,
            "missing": r["code"] in missing,
        }
        for r in case.required_materials
    ]
    return render(
        request,
        "acceptance_case.html",
        {
            "case": detail,
            "masked_id": mask_id_number(detail.applicant.id_number),
            "checklist": checklist,
            "can_defer": rules.deferred_acceptance
            and any(c["missing"] and c["deferrable"] for c in checklist),
            "can_act": staff.has_role(ROLE_ACCEPTOR),
            "titles": {
                "acceptance": "受理通知书",
                "supplement": "一次性告知书",
                "rejection": "不予受理通知书",
            },
        }
        | (extra or {}),
    )


@router.get("/acceptance/{case_no}", response_class=HTMLResponse)
async def case_page(request: Request, session: Session, staff: Staff, case_no: CaseNoPath) -> HTMLResponse:
    """办件受理: the case, its material checklist, the window's actions and its notices."""
    return await _case_page(request, session, staff, case_no)


@router.post("/acceptance/{case_no}/accept")
async def accept(request: Request, session: Session, staff: Staff, case_no: CaseNoPath) -> Response:
    """受理, or 容缺受理 when owed materials and a date are chosen."""
    form = await _form(request)
    _acceptor(staff)
    deferred = [DeferredMaterial(code=c) for c in form.get("deferred", []) if c]
    try:
        body = AcceptRequest.model_validate(
            {
                "opinion": _one(form, "opinion") or "材料齐全，予以受理",
                "deferred_materials": [d.model_dump() for d in deferred] or None,
                "supply_by": _one(form, "supply_by") or None,
            }
        )
    except ValidationError as exc:
        raise _invalid(exc) from exc
    await case_service.accept_case_with_steps(
        session,
        case_no=case_no,
        principal=staff,
        opinion=body.opinion,
        calendar=request.app.state.calendar,
        source=request.app.state.runtime.source,
        supervision=request.app.state.settings.supervision,
        deferred=body.deferred_materials,
        supply_by=body.supply_by,
    )
    return RedirectResponse(_case_url(case_no) + "?done=accept", status_code=303)


@router.post("/acceptance/{case_no}/reject")
async def reject(request: Request, session: Session, staff: Staff, case_no: CaseNoPath) -> Response:
    """不予受理 with the written reason."""
    form = await _form(request)
    _acceptor(staff)
    try:
        body = RejectRequest(reason=_one(form, "reason"))
    except ValidationError as exc:
        raise _invalid(exc) from exc
    await case_service.reject_case(
        session, case_no=case_no, principal=staff, reason=body.reason, source=request.app.state.runtime.source
    )
    return RedirectResponse(_case_url(case_no) + "?done=reject", status_code=303)


@router.post("/acceptance/{case_no}/deferred-materials")
async def supply_deferred(request: Request, session: Session, staff: Staff, case_no: CaseNoPath) -> Response:
    """容缺材料补齐: paper originals of the owed materials, checked at the window."""
    form = await _form(request)
    _intake(staff)
    case = await case_service.get_visible_case(session, case_no, staff)
    names = {m["code"]: m["name"] for m in case.required_materials}
    codes = [c for c in form.get("supplied", []) if c in names]
    if not codes:
        raise ValidationFailed("请勾选已收到的容缺材料")
    await case_service.supply_deferred(
        session,
        case_no=case_no,
        principal=staff,
        materials=[intake.paper_material(case.application_id, c, names[c]) for c in codes],
        calendar=request.app.state.calendar,
        source=request.app.state.runtime.source,
        supervision=request.app.state.settings.supervision,
    )
    return RedirectResponse(_case_url(case_no) + "?done=supply", status_code=303)


def _chosen(form: dict[str, list[str]], names: dict[str, str]) -> list[NoticeMaterial]:
    chosen = []
    for code in form.get("material", []):
        if code in names:
            reason = _one(form, f"reason_{code}") or "未提交"
            try:
                chosen.append(NoticeMaterial(code=code, reason=reason))
            except ValidationError as exc:
                raise _invalid(exc) from exc
    return chosen


@router.get("/acceptance/{case_no}/notice", response_class=HTMLResponse)
async def compose(request: Request, session: Session, staff: Staff, case_no: CaseNoPath) -> HTMLResponse:
    """一次性告知 composer: every material of the item, the missing ones ticked, a reason each."""
    _acceptor(staff)
    case = await case_service.get_visible_case(session, case_no, staff)
    missing = {m.code for m in case_service.missing_required(case.required_materials, case.materials)}
    rows = [
        {"code": r["code"], "name": r["name"], "checked": r["code"] in missing, "reason": "未提交"}
        for r in case.required_materials
    ]
    return render(request, "notice_compose.html", {"case": case, "rows": rows, "note": "", "preview": None})


@router.post("/acceptance/{case_no}/notice", response_class=HTMLResponse)
async def preview_or_issue(request: Request, session: Session, staff: Staff, case_no: CaseNoPath) -> Response:
    """预览 renders the notice as it will read; 出具 issues it (the service checks it lists every missing material)."""
    form = await _form(request)
    _acceptor(staff)
    case = await case_service.get_visible_case(session, case_no, staff)
    names = {r["code"]: r["name"] for r in case.required_materials}
    chosen = _chosen(form, names)
    note = _one(form, "note")[:500] or None
    if _one(form, "action") == "issue":
        await case_service.issue_supplement_notice(
            session,
            case_no=case_no,
            principal=staff,
            requested=chosen,
            note=note,
            source=request.app.state.runtime.source,
        )
        return RedirectResponse(_case_url(case_no) + "?done=notice", status_code=303)
    materials = case_service.notice_materials(case, chosen)
    text = notices.supplement_notice_text(
        applicant_name=str(case.applicant.get("name", "")),
        item_name=case.item_name,
        case_no=case.case_no,
        materials=materials,
        note=note,
    )
    reasons = {m.code: m.reason for m in chosen}
    rows = [
        {"code": c, "name": n, "checked": c in reasons, "reason": reasons.get(c, "未提交")}
        for c, n in names.items()
    ]
    return render(
        request, "notice_compose.html", {"case": case, "rows": rows, "note": note or "", "preview": text}
    )


@router.get("/acceptance/{case_no}/notices/{kind}.pdf")
async def notice_pdf(
    request: Request,
    session: Session,
    staff: Staff,
    case_no: CaseNoPath,
    kind: Annotated[NoticeKind, Path()],
) -> Response:
    """The notice PDF, for the hall to print."""
    settings = request.app.state.settings
    filename, pdf = await case_service.notice_pdf(
        session,
        case_no=case_no,
        kind=kind,
        principal=staff,
        reason=None,
        progress_url=settings.progress_url(case_no),
        font=find_font(settings.guide_font_path),
        source=request.app.state.runtime.source,
    )
    return pdf_response(filename, pdf)


def _field_value(schema: dict[str, Any], raw: str) -> Any:
    kind = schema.get("type")
    if kind in ("number", "integer"):
        try:
            number = float(raw)
        except ValueError:
            return raw
        return int(number) if kind == "integer" or number.is_integer() else number
    return raw


#: The window form's fields of each 申请人类型 (their ``name`` attributes).
NATURAL_FIELDS = ("name", "id_number", "phone")
LEGAL_FIELDS = (
    "unit_name",
    "credit_code",
    "legal_representative",
    "agent_role",
    "agent_name",
    "agent_id_number",
    "agent_phone",
)
#: The zh-CN message beside a field the schema refused (pydantic's own messages are English).
FIELD_MESSAGES = {
    "name": "请填写申请人姓名（1-50 字，首尾不含空格）",
    "id_number": "请填写 18 位公民身份号码（末位可为 X）",
    "phone": "手机号码须为 1 开头的 11 位数字",
    "unit_name": "请填写单位名称（与营业执照一致）",
    "credit_code": "请填写 18 位统一社会信用代码",
    "legal_representative": "请填写法定代表人姓名",
    "agent_role": "请选择到场人身份",
    "agent_name": "请填写经办人姓名",
    "agent_id_number": "请填写经办人 18 位公民身份号码（末位可为 X）",
    "agent_phone": "手机号码须为 1 开头的 11 位数字",
    "paper": "材料编码无效或重复",
}
_NATURAL_LOC = {"name": "name", "id_number": "id_number", "phone": "phone"}
_LEGAL_LOC = {
    ("name",): "unit_name",
    ("credit_code",): "credit_code",
    ("legal_representative",): "legal_representative",
    ("agent", "name"): "agent_name",
    ("agent", "id_number"): "agent_id_number",
    ("agent", "phone"): "agent_phone",
    ("agent", "role"): "agent_role",
}


def _field_of(loc: tuple[Any, ...], kind: str) -> str:
    """The form field a validation error's location points at (``form`` for the rest)."""
    if loc[:1] == ("paper_materials",):
        return "paper"
    if loc[:1] != ("applicant",):
        return "form"
    rest = tuple(str(p) for p in loc[1:] if p not in ("natural_person", "legal_person"))
    if kind == "legal_person":
        return _LEGAL_LOC.get(rest[:2], _LEGAL_LOC.get(rest[:1], "unit_name"))
    return _NATURAL_LOC.get(rest[0] if rest else "", "name")


def intake_field_errors(exc: ValidationError, kind: str) -> dict[str, str]:
    """zh-CN messages by form field for a window intake the schema refused."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        field = _field_of(tuple(error.get("loc", ())), kind)
        errors.setdefault(field, FIELD_MESSAGES.get(field, "申请表填写有误"))
    return errors


def _applicant_body(form: dict[str, list[str]], kind: str) -> dict[str, Any]:
    if kind != "legal_person":
        return {
            "name": _one(form, "name"),
            "id_number": _one(form, "id_number"),
            "phone": _one(form, "phone") or None,
        }
    return {
        "kind": "legal_person",
        "name": _one(form, "unit_name"),
        "credit_code": _one(form, "credit_code"),
        "legal_representative": _one(form, "legal_representative"),
        "agent": {
            "name": _one(form, "agent_name"),
            "id_number": _one(form, "agent_id_number"),
            "role": _one(form, "agent_role") or "agent",
            "phone": _one(form, "agent_phone") or None,
        },
    }


async def _intake_page(
    request: Request,
    session: Session,
    staff: Principal,
    item_code: str,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    items = await ItemRepository(session).in_force_of_org(staff.org_code or "")
    chosen = next((i for i in items if i.item_code == item_code), None)
    fields = []
    if chosen is not None:
        required = set(chosen.form_schema.get("required", []))
        for name, schema in chosen.form_schema.get("properties", {}).items():
            kind = schema.get("type")
            input_type = (
                "date"
                if schema.get("format") == "date"
                else "number"
                if kind in ("number", "integer")
                else "text"
            )
            fields.append(
                {
                    "name": name,
                    "title": schema.get("title", name),
                    "type": input_type,
                    "required": name in required,
                }
            )
    values = values or {}
    return render(
        request,
        "window_intake.html",
        {
            "items": items,
            "item": chosen,
            "fields": fields,
            "application_id": values.get("application_id") or uuid.uuid4(),
            "values": values,
            "kind": values.get("applicant_kind") or "natural_person",
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/window-intake", response_class=HTMLResponse)
async def intake_form(
    request: Request,
    session: Session,
    staff: Staff,
    item_code: Annotated[str, Query(pattern=r"^[0-9A-Za-z]{0,64}$")] = "",
) -> HTMLResponse:
    """窗口收件: choose one of the unit's items, then the applicant (a citizen, or a unit and its
    经办人), the form and the paper originals."""
    _intake(staff)
    return await _intake_page(request, session, staff, item_code)


@router.post("/window-intake")
async def register(request: Request, session: Session, staff: Staff) -> Response:
    """Register the application (the case service's rules, as ``POST /api/v1/cases/window-intake``),
    then open the case's acceptance page; refused input comes back with its errors beside the fields."""
    form = await _form(request)
    _intake(staff)
    item_code = _one(form, "item_code")
    kind = "legal_person" if _one(form, "applicant_kind") == "legal_person" else "natural_person"
    item = await ItemRepository(session).get(item_code)
    properties = item.form_schema.get("properties", {}) if item else {}
    values = {
        name: _field_value(schema, _one(form, f"f_{name}"))
        for name, schema in properties.items()
        if _one(form, f"f_{name}")
    }
    shown: dict[str, Any] = {k: _one(form, k) for k in ("application_id", *NATURAL_FIELDS, *LEGAL_FIELDS)}
    shown |= {"applicant_kind": kind, "form": {k: _one(form, f"f_{k}") for k in properties}}
    shown["paper"] = [c for c in form.get("paper", []) if c]

    async def refused(errors: dict[str, str]) -> HTMLResponse:
        return await _intake_page(
            request, session, staff, item_code, values=shown, errors=errors, status_code=422
        )

    try:
        body = WindowIntakeRequest.model_validate(
            {
                "application_id": _one(form, "application_id") or None,
                "item_code": item_code,
                "applicant": _applicant_body(form, kind),
                "form": values,
                "paper_materials": shown["paper"],
            }
        )
    except ValidationError as exc:
        return await refused(intake_field_errors(exc, kind))
    try:
        case = await intake.register_at_window(
            session,
            body=body,
            principal=staff,
            region_code=request.app.state.settings.platform.region_code,
            source=request.app.state.runtime.source,
        )
    except CreditCodeInvalid as exc:
        return await refused({"credit_code": exc.detail or "统一社会信用代码校验位不正确"})
    except IdNumberInvalid as exc:
        field = "agent_id_number" if kind == "legal_person" else "id_number"
        return await refused({field: exc.detail or "公民身份号码校验位不正确"})
    except AgentMismatch as exc:
        return await refused({"agent_name": exc.detail or "到场人不是法定代表人"})
    except intake.FormInvalid as exc:
        return await refused({"form": exc.detail or "申请表填写有误"})
    except IntakeMaterialInvalid as exc:
        return await refused({"paper": exc.detail or FIELD_MESSAGES["paper"]})
    return RedirectResponse(_case_url(case.case_no), status_code=303)
