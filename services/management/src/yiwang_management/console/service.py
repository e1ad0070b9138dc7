"""What the console pages show and how a form becomes catalogue input; the rules stay in catalogue.service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from yiwang_common.auth import Principal
from yiwang_management.catalogue import service as catalogue
from yiwang_management.catalogue.models import (
    APPROVED,
    DRAFT,
    IMPORT_FINISHED,
    IMPORT_STATUS_NAMES,
    PHASE_IMPORTING,
    PHASE_NAMES,
    PHASE_VALIDATING,
    PUBLISHED,
    SUBMITTED,
    CatalogueImport,
    CatalogueImportError,
    ItemVersion,
)
from yiwang_management.catalogue.schemas import ImplementationContent


@dataclass(frozen=True)
class Action:
    """One workflow button: the path segment it posts to and its label."""

    name: str
    label: str
    needs_note: bool = False


def actions(version: ItemVersion, principal: Principal) -> list[Action]:
    """The buttons this staff member may press on this version (the service checks again)."""
    owner = principal.kind == "staff" and principal.org_code == version.org_code
    centre = catalogue.is_centre(principal)
    found: list[Action] = []
    if version.status == DRAFT and owner:
        found.append(Action("submit", "提交审核"))
    if version.status == SUBMITTED and centre:
        found.append(Action("approve", "审核通过"))
    if version.status == APPROVED and centre:
        found.append(Action("publish", "发布"))
    if version.status in (SUBMITTED, APPROVED) and centre:
        found.append(Action("return", "退回修改", needs_note=True))
    if version.status == PUBLISHED and centre:
        found.append(Action("withdraw", "撤销", needs_note=True))
    return found


def can_edit(version: ItemVersion, principal: Principal) -> bool:
    """谁编制、谁维护: only the implementing body's staff edit, only a draft."""
    return version.status == DRAFT and principal.kind == "staff" and principal.org_code == version.org_code


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def edited_content(content: dict[str, Any], form: dict[str, str]) -> ImplementationContent:
    """The draft's content with the console form's elements replaced; validated by the one schema.

    Materials are edited as one name per line: a name already on the list keeps its attributes,
    a new name becomes a required original from the applicant with the next free code.

    Raises:
        pydantic.ValidationError: if an element breaks the schema's rules.
    """
    materials = {m["name"]: m for m in content.get("materials", [])}
    used = {m["code"] for m in materials.values()}
    new_materials = []
    serial = 1
    for name in _lines(form.get("materials", "")):
        if name in materials:
            new_materials.append(materials[name])
            continue
        while f"M{serial:02d}" in used:
            serial += 1
        used.add(f"M{serial:02d}")
        new_materials.append({"code": f"M{serial:02d}", "name": name})
    fee_charged = form.get("fee_charged") == "on"
    fees = list(content.get("fees", []))
    standard, basis = form.get("fee_standard", "").strip(), form.get("fee_basis", "").strip()
    if fee_charged and (standard or basis):
        first = fees[0] if fees else {"name": form.get("fee_name", "").strip() or "收费"}
        fees = [first | {"standard": standard, "basis": basis}, *fees[1:]]
    elif not fee_charged:
        fees = []
    updated = content | {
        "statutory_limit_days": form.get("statutory_limit_days", ""),
        "promised_limit_days": form.get("promised_limit_days", ""),
        "conditions": _lines(form.get("conditions", "")),
        "materials": new_materials,
        "fee_charged": fee_charged,
        "fees": fees,
        "place": form.get("place", "").strip(),
        "hours": form.get("hours", "").strip(),
        "enquiry_phone": form.get("enquiry_phone", "").strip(),
    }
    return ImplementationContent.model_validate(updated)


def error_messages(exc: ValidationError) -> list[str]:
    """zh-CN lines naming the element of each validation error."""
    labels = {
        "statutory_limit_days": "法定办结时限",
        "promised_limit_days": "承诺办结时限",
        "conditions": "受理条件",
        "materials": "申请材料",
        "fees": "收费标准与依据",
        "place": "办理地点",
        "hours": "办理时间",
        "enquiry_phone": "咨询电话",
    }
    out = []
    for error in exc.errors():
        loc = error.get("loc", ())
        name = labels.get(str(loc[0]), str(loc[0])) if loc else "内容"
        out.append(f"{name}：{error.get('msg', '无效')}")
    return out or [str(exc)]


#: Row errors shown per page of an import job.
ERRORS_PER_PAGE = 100


def job_view(
    job: CatalogueImport, errors: Sequence[CatalogueImportError], total_errors: int, *, errors_page: int
) -> dict[str, Any]:
    """What the import job page shows: status, the phase's progress, the counts, a page of errors."""
    finished = job.status in IMPORT_FINISHED
    if job.phase == PHASE_IMPORTING:
        done, of = job.processed_rows, job.write_rows
    elif job.phase == PHASE_VALIDATING:
        done, of = job.processed_rows, job.total_rows
    else:
        done = of = job.total_rows
    return {
        "job": job,
        "finished": finished,
        "status_name": IMPORT_STATUS_NAMES.get(job.status, job.status),
        "phase_name": PHASE_NAMES.get(job.phase, job.phase),
        "done": min(done, of) if of else done,
        "of": of,
        "percent": 100 if finished else (int(100 * done / of) if of else 0),
        "errors": errors,
        "total_errors": total_errors,
        "errors_page": errors_page,
        "errors_pages": max(1, -(-total_errors // ERRORS_PER_PAGE)),
    }
