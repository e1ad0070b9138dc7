"""What the console pages show and how a form becomes catalogue input; the rules stay in catalogue.service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from yiwang_common.auth import Principal
from yiwang_management.catalogue import service as catalogue
from yiwang_management.catalogue.models import APPROVED, DRAFT, PUBLISHED, SUBMITTED, ItemVersion
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
