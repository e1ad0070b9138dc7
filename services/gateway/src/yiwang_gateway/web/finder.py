"""找事项 The one place the portal pages get search results from: the gateway's search engine.

The results page, the home page's theme counts and the live filtering all call :func:`find_items`;
it asks :data:`~yiwang_gateway.search.service.search_service` (the index behind ``GET
/api/v1/catalogue/search``) for one page of ranked hits and the filter counts, and shapes them for
the templates. What an item shows (level, themes, 服务对象, 是否网办 …) is read once, by
:func:`yiwang_gateway.search.documents.item_fields`, for the index and the guide page alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from yiwang_gateway.catalogue.elements import LEVEL_NAMES, service_objects
from yiwang_gateway.catalogue.models import CatalogueItem
from yiwang_gateway.search.documents import item_fields
from yiwang_gateway.search.engine import Facet as FacetName
from yiwang_gateway.search.schemas import SearchResponse
from yiwang_gateway.search.service import OBJECT_PARAMS, search_service
from yiwang_gateway.web.schemas import (
    OBJECT_NAMES,
    Facet,
    FacetOption,
    ResultHit,
    ResultPage,
    SearchFilters,
)

PER_PAGE = 10


def hit_from_fields(fields: Mapping[str, Any]) -> ResultHit:
    """A result from an item's shown fields (a search hit's, or :func:`item_fields` of a row)."""
    objects = service_objects(fields["service_object"])
    return ResultHit(
        item_code=fields["item_code"],
        name=fields["name"],
        item_type=fields["item_type"],
        department=fields["department"],
        region_code=fields["region_code"],
        level=fields["level"],
        level_name=fields["level_name"],
        service_object=tuple(fields["service_object"]),
        # 个人 first, as the portal lists them.
        objects=tuple(OBJECT_PARAMS[o] for o in sorted(objects, reverse=True)),
        themes=tuple(fields["themes"]),
        promised_limit_days=fields["promised_limit_days"],
        fee=fields["fee"],
        online=fields["online"],
    )


def hit_from_item(item: CatalogueItem) -> ResultHit:
    return hit_from_fields(item_fields(item))


# Each filter dimension: the query parameter (the engine's facet name too), its label, what is selected.
_DIMENSIONS: tuple[tuple[FacetName, str, Callable[[SearchFilters], tuple[str, ...]]], ...] = (
    ("object", "服务对象", lambda f: f.objects),
    ("theme", "主题", lambda f: f.themes),
    ("department", "实施部门", lambda f: f.departments),
    ("level", "行使层级", lambda f: f.levels),
)
_LABELS: dict[str, dict[str, str]] = {"object": OBJECT_NAMES, "level": LEVEL_NAMES}
_ORDER: dict[str, list[str]] = {"object": list(OBJECT_NAMES), "level": list(LEVEL_NAMES)}


def _facets(counted: Mapping[str, Mapping[str, int]], filters: SearchFilters) -> tuple[Facet, ...]:
    facets = []
    for name, label, selected in _DIMENSIONS:
        # The engine counts a dimension ignoring its own selection, so the other choices stay visible.
        counts = counted.get(name, {})
        chosen = set(selected(filters))
        order = _ORDER.get(name)
        keys = sorted(
            set(counts) | chosen,
            key=lambda v: (
                order.index(v) if order and v in order else len(order or ()),
                -counts.get(v, 0),
                v,
            ),
        )
        options = tuple(
            FacetOption(
                value=v, label=_LABELS.get(name, {}).get(v, v), count=counts.get(v, 0), selected=v in chosen
            )
            for v in keys
        )
        if options:
            facets.append(Facet(name=name, label=label, options=options))
    return tuple(facets)


def find_items(filters: SearchFilters, *, per_page: int = PER_PAGE) -> ResultPage:
    """The published items matching ``filters``, one page of them, with the filter counts.

    Raises the engine's ``BadQuery`` (control characters) and ``SearchNotReady`` (index not built).
    """

    def ask(page: int) -> SearchResponse:
        return search_service.search(
            q=filters.q,
            themes=list(filters.themes),
            departments=list(filters.departments),
            levels=list(filters.levels),
            objects=list(filters.objects),
            events=[],
            region=None,
            region_scope="up",
            limit=per_page,
            offset=(page - 1) * per_page,
            facets=[name for name, _, _ in _DIMENSIONS],
        )

    result = ask(filters.page)
    pages = max(1, math.ceil(result.total / per_page))
    page = min(filters.page, pages)
    if page != filters.page:  # past the last page (a stale link): show the last one
        result = ask(page)
    return ResultPage(
        hits=tuple(hit_from_fields(h.model_dump()) for h in result.items),
        total=result.total,
        page=page,
        pages=pages,
        facets=_facets(result.facets, filters),
    )
