"""找事项 The one place the portal pages get search results from.

SWITCH POINT: the results page, the home page's theme counts and the live filtering all call
:func:`find_items` and nothing else. Today it runs on the catalogue repository's name search
(``CatalogueRepository.search``, a ``LIKE`` on the name) and filters and counts in Python over
at most :data:`SCAN_LIMIT` matches, which is right for the demo catalogue and wrong for 100k
items. When the gateway's search engine (``yiwang_gateway.search``, ``GET
/api/v1/catalogue/search``) is merged, replace the body of :func:`find_items` with a call to its
service and map its hits onto :class:`ResultHit`; the field names already match its
``SearchHit`` (department, level, level_name, themes, online, fee …), and the filter values in
the page URLs (``level=county``, ``object=natural_person``) are ones it accepts.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_gateway.catalogue.models import CatalogueItem
from yiwang_gateway.catalogue.repository import CatalogueRepository
from yiwang_gateway.web.schemas import (
    LEVEL_NAMES,
    OBJECT_NAMES,
    Facet,
    FacetOption,
    ResultHit,
    ResultPage,
    SearchFilters,
)

#: How many name matches the interim search looks at; the engine has no such cap.
SCAN_LIMIT = 1000
PER_PAGE = 10

_SPLIT = re.compile(r"[、,，;；/]+")
_LEGAL_WORDS = ("法人", "企业", "组织", "机关", "单位", "个体工商户")
_NATURAL_WORDS = ("自然人", "个人", "公民")


def level_of(region_code: str) -> str:
    """行使层级 from a GB/T 2260 code: xx0000 province, xxxx00 city, otherwise county."""
    if region_code.endswith("0000"):
        return "province"
    if region_code.endswith("00"):
        return "city"
    return "county"


def guide_list(guide: dict[str, Any], *keys: str) -> tuple[str, ...]:
    """A guide element that is a list, or a string of values separated by 、，; /."""
    for key in keys:
        value = guide.get(key)
        if isinstance(value, list):
            return tuple(str(v).strip() for v in value if str(v).strip())
        if isinstance(value, str) and value.strip():
            return tuple(v.strip() for v in _SPLIT.split(value) if v.strip())
    return ()


def objects_of(service_object: Iterable[Any]) -> tuple[str, ...]:
    """服务对象 (企业法人, 自然人 …) → ``natural_person`` and/or ``legal_person``."""
    found: set[str] = set()
    for value in service_object:
        text = str(value)
        if any(w in text for w in _NATURAL_WORDS):
            found.add("natural_person")
        if any(w in text for w in _LEGAL_WORDS):
            found.add("legal_person")
    return tuple(sorted(found, reverse=True))


def online_of(guide: dict[str, Any]) -> bool | None:
    """是否网办: the explicit element, else whether 办理形式 names 网上办理; None when unknown."""
    value = guide.get("是否网办", guide.get("online"))
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip():
        return value.strip() in ("是", "全程网办", "可网办")
    forms = guide.get("办理形式")
    if isinstance(forms, list) and forms:
        return any("网上" in str(f) for f in forms)
    if isinstance(forms, str) and forms:
        return "网上" in forms
    return None


def hit_from_item(item: CatalogueItem) -> ResultHit:
    guide: dict[str, Any] = item.guide or {}
    limits: dict[str, Any] = item.limits or {}
    level = level_of(item.region_code)
    return ResultHit(
        item_code=item.item_code,
        name=item.name,
        item_type=item.item_type,
        department=str(item.org.get("name", "")),
        region_code=item.region_code,
        level=level,
        level_name=LEVEL_NAMES[level],
        service_object=tuple(str(s) for s in item.service_object),
        objects=objects_of(item.service_object),
        themes=guide_list(guide, "主题分类", "themes"),
        promised_limit_days=limits.get("promised_limit_days"),
        fee=str(limits.get("fee") or "不收费"),
        online=online_of(guide),
    )


# Each filter dimension: the query parameter, its label, what a hit has of it, what is selected.
_Values = Callable[[ResultHit], Iterable[str]]
_DIMENSIONS: tuple[tuple[str, str, _Values, Callable[[SearchFilters], tuple[str, ...]]], ...] = (
    ("object", "服务对象", lambda h: h.objects, lambda f: f.objects),
    ("theme", "主题", lambda h: h.themes, lambda f: f.themes),
    ("department", "实施部门", lambda h: (h.department,), lambda f: f.departments),
    ("level", "行使层级", lambda h: (h.level,), lambda f: f.levels),
)
_LABELS: dict[str, dict[str, str]] = {"object": OBJECT_NAMES, "level": LEVEL_NAMES}
_ORDER: dict[str, list[str]] = {"object": list(OBJECT_NAMES), "level": list(LEVEL_NAMES)}


def _passes(hit: ResultHit, filters: SearchFilters, *, skip: str | None = None) -> bool:
    for name, _label, values, selected in _DIMENSIONS:
        chosen = selected(filters)
        if name != skip and chosen and not set(values(hit)) & set(chosen):
            return False
    return True


def _facets(hits: list[ResultHit], filters: SearchFilters) -> tuple[Facet, ...]:
    facets = []
    for name, label, values, selected in _DIMENSIONS:
        # A dimension's counts ignore its own selection, so the other choices stay visible.
        counts = Counter(v for h in hits if _passes(h, filters, skip=name) for v in set(values(h)))
        chosen = set(selected(filters))
        order = _ORDER.get(name)
        keys = sorted(
            set(counts) | chosen,
            key=lambda v: (order.index(v) if order and v in order else len(order or ()), -counts[v], v),
        )
        options = tuple(
            FacetOption(value=v, label=_LABELS.get(name, {}).get(v, v), count=counts[v], selected=v in chosen)
            for v in keys
        )
        if options:
            facets.append(Facet(name=name, label=label, options=options))
    return tuple(facets)


async def find_items(
    session: AsyncSession, filters: SearchFilters, *, per_page: int = PER_PAGE
) -> ResultPage:
    """The published items matching ``filters``, one page of them, with the filter counts."""
    items, _total = await CatalogueRepository.from_session(session).search(
        q=filters.q.strip() or None, page=1, limit=SCAN_LIMIT
    )
    everything = [hit_from_item(i) for i in items]
    matching = [h for h in everything if _passes(h, filters)]
    pages = max(1, math.ceil(len(matching) / per_page))
    page = min(filters.page, pages)
    start = (page - 1) * per_page
    return ResultPage(
        hits=tuple(matching[start : start + per_page]),
        total=len(matching),
        page=page,
        pages=pages,
        facets=_facets(everything, filters),
    )
