"""What the portal pages show: the home page's entry points and an item's 办事指南 page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_gateway.catalogue.elements import CLASSIFYING_KEYS
from yiwang_gateway.catalogue.service import catalogue_service
from yiwang_gateway.web.finder import find_items, hit_from_item
from yiwang_gateway.web.schemas import (
    OBJECT_NAMES,
    ChecklistEntry,
    GuideFact,
    ResultHit,
    SearchFilters,
    ThemeEntry,
    ThemeGroup,
)

CASE_TYPES = {"1": "即办件", "2": "承诺件", "9": "其他"}
FORMS = {"original": "原件", "copy": "复印件", "electronic": "电子材料"}
MEDIA_TYPES = {"application/pdf": "PDF", "image/jpeg": "JPG", "image/png": "PNG"}


def search_href(**params: str) -> str:
    return "/search?" + urlencode(params)


async def home_groups() -> tuple[ThemeGroup, ...]:
    """个人办事 and 法人办事, each with the themes its items carry (as the catalogue has them today)."""
    groups = []
    for obj, title in (("natural_person", "个人办事"), ("legal_person", "法人办事")):
        found = find_items(SearchFilters(objects=(obj,)), per_page=1)
        themes = next((f.options for f in found.facets if f.name == "theme"), ())
        groups.append(
            ThemeGroup(
                object=obj,
                title=f"{title}（{OBJECT_NAMES[obj].split('（')[0]}）",
                href=search_href(object=obj),
                count=found.total,
                themes=tuple(
                    ThemeEntry(label=t.value, href=search_href(object=obj, theme=t.value), count=t.count)
                    for t in themes
                    if t.count
                ),
            )
        )
    return tuple(groups)


@dataclass(frozen=True)
class GuidePage:
    """Everything the guide page shows of one item."""

    hit: ResultHit
    basic_code: str
    org_code: str
    scope: str
    legal_basis: tuple[str, ...]
    conditions: tuple[str, ...]
    materials: tuple[dict[str, Any], ...]
    limits: tuple[GuideFact, ...]
    facts: tuple[GuideFact, ...]
    checklist: tuple[ChecklistEntry, ...]
    version: int
    published_at: datetime
    pdf_url: str | None


def _values(value: Any) -> tuple[str, ...]:
    if value is None or value == "" or value == []:
        return ()
    if isinstance(value, bool):
        return ("是" if value else "否",)
    if isinstance(value, list | tuple):
        return tuple(v for item in value for v in _values(item))
    if isinstance(value, dict):
        return tuple(f"{k}：{'、'.join(_values(v))}" for k, v in value.items() if _values(v))
    return (str(value),)


def _material_details(m: dict[str, Any]) -> tuple[str, ...]:
    details = ["必须提交" if m.get("required", True) else "按情况提交（非必需）"]
    copies, form = m.get("copies"), FORMS.get(str(m.get("form")), "")
    if copies or form:
        details.append(f"{form or '材料'} {copies or 1} 份")
    if m.get("source"):
        details.append(f"来源：{m['source']}")
    types = [MEDIA_TYPES.get(t, t) for t in m.get("media_types") or []]
    if types:
        size = m.get("max_bytes")
        limit = f"，不超过 {size / 1024 / 1024:g} MB" if isinstance(size, int) and size >= 1024 * 1024 else ""
        details.append(f"网上提交格式：{'、'.join(types)}{limit}")
    if m.get("notes"):
        details.append(f"填报须知：{m['notes']}")
    return tuple(details)


async def guide_page(session: AsyncSession, item_code: str) -> GuidePage:
    """The item's guide as the portal's catalogue projection has it; ItemNotFound when unpublished."""
    item = await catalogue_service.get(session, item_code=item_code)
    limits = item.limits or {}
    limit_facts = [
        GuideFact("法定办结时限", (f"{limits['statutory_limit_days']} 个工作日",))
        if limits.get("statutory_limit_days") is not None
        else None,
        GuideFact("承诺办结时限", (f"{limits['promised_limit_days']} 个工作日",))
        if limits.get("promised_limit_days") is not None
        else None,
        GuideFact("办件类型", (CASE_TYPES.get(str(limits["case_type"]), str(limits["case_type"])),))
        if limits.get("case_type")
        else None,
        GuideFact("收费标准", (str(limits.get("fee") or "不收费"),)),
    ]
    facts = tuple(
        GuideFact(str(k), _values(v))
        for k, v in (item.guide or {}).items()
        if k not in CLASSIFYING_KEYS and _values(v)
    )
    materials = tuple(m for m in item.materials if isinstance(m, dict))
    checklist = tuple(
        ChecklistEntry(key=f"condition-{i}", label=str(c), required=True)
        for i, c in enumerate(item.conditions, 1)
    ) + tuple(
        ChecklistEntry(
            key=f"material-{m.get('code', i)}",
            label=str(m.get("name", "")),
            required=bool(m.get("required", True)),
            details=_material_details(m),
        )
        for i, m in enumerate(materials, 1)
    )
    return GuidePage(
        hit=hit_from_item(item),
        basic_code=item.basic_code,
        org_code=str(item.org.get("code", "")),
        scope=item.scope,
        legal_basis=tuple(str(b) for b in item.legal_basis),
        conditions=tuple(str(c) for c in item.conditions),
        materials=materials,
        limits=tuple(f for f in limit_facts if f is not None),
        facts=facts,
        checklist=checklist,
        version=item.version,
        published_at=item.published_at,
        # management renders it from the same item data; the portal streams it through.
        pdf_url=f"/items/{item.item_code}/guide.pdf",
    )
