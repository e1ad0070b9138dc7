"""From a catalogue row (the ItemPublished projection) to a :class:`SearchDocument`.

Which guide keys carry the elements the contract has no field for (主题分类, 人生事件, 别名, 是否网办 …)
is decided once, in :mod:`yiwang_gateway.catalogue.elements`, for the index and the pages alike.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from yiwang_gateway.catalogue.elements import (
    CLASSIFYING_KEYS,
    LEVEL_NAMES,
    fee_of,
    guide_list,
    level_of,
    online_of,
    service_objects,
)
from yiwang_gateway.search.engine import SearchDocument, matchable
from yiwang_gateway.search.schemas import SearchHit

#: What only a query gives a hit: placeholders for validating the rest at index time.
_NOT_YET: dict[str, Any] = {"name_highlight": "", "snippet": "", "score": 0.0}


def item_fields(item: Any) -> dict[str, Any]:
    """What a hit shows of an item (the ``SearchHit`` fields without score and highlights)."""
    guide: dict[str, Any] = item.guide or {}
    limits: dict[str, Any] = item.limits or {}
    fee, free = fee_of(limits)
    level = level_of(item.region_code)
    return {
        "item_code": item.item_code,
        "name": item.name,
        "item_type": item.item_type,
        "department": item.org.get("name", ""),
        "department_code": item.org.get("code", ""),
        "region_code": item.region_code,
        "level": level,
        "level_name": LEVEL_NAMES[level],
        "service_object": [str(s) for s in item.service_object],
        "promised_limit_days": limits.get("promised_limit_days"),
        "statutory_limit_days": limits.get("statutory_limit_days"),
        "online": online_of(guide),
        "fee": fee,
        "free": free,
        "themes": list(guide_list(guide, "主题分类", "themes")),
        "life_events": list(guide_list(guide, "人生事件", "life_events")),
    }


def _text(item: Any) -> str:
    parts: list[str] = [item.scope, *item.conditions]
    parts += [str(m.get("name", "")) for m in item.materials]
    for key, value in item.guide.items():
        if key in CLASSIFYING_KEYS:
            continue
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, list):
            parts.extend(str(v) for v in value if isinstance(v, str))
    return "。".join(p for p in parts if p)


def document_from_item(item: Any) -> SearchDocument:
    """``item`` is a ``CatalogueItem`` (or anything with its attributes)."""
    guide: dict[str, Any] = item.guide or {}
    text = _text(item)
    # The hit's fields validated once, here, as the API's JSON values: a search then only adds the
    # score and the highlights (no model per hit per query).
    shown = SearchHit.model_validate(item_fields(item) | _NOT_YET).model_dump(
        mode="json", exclude=set(_NOT_YET)
    )
    source = text[:400]
    # What highlighting looks for the terms in, made here once instead of per hit per query
    # (None: the text itself, as for most items; their normal form is their own).
    name_lowered, source_lowered = matchable(item.name), matchable(source)
    payload = {
        "fields": shown,
        "snippet_source": source,
        "name_lowered": None if name_lowered == item.name else name_lowered,
        "snippet_lowered": None if source_lowered == source else source_lowered,
    }
    return SearchDocument(
        id=item.item_code,
        name=item.name,
        region_code=item.region_code,
        department=item.org.get("name", ""),
        department_code=item.org.get("code", ""),
        aliases=guide_list(guide, "别名", "aliases") + guide_list(guide, "关键词", "keywords"),
        themes=guide_list(guide, "主题分类", "themes"),
        events=guide_list(guide, "人生事件", "life_events"),
        objects=service_objects(item.service_object),
        item_type=item.item_type,
        text=text,
        payload=payload,
    )


def document_from_event(data: Any) -> SearchDocument:
    """The same document straight from an ``ItemPublished`` (bench and tests without a database)."""
    view = SimpleNamespace(
        item_code=data.item_code,
        name=data.name,
        item_type=data.item_type,
        org=data.implementing_org.model_dump(),
        region_code=data.region_code,
        service_object=list(data.service_object),
        scope=data.scope,
        conditions=list(data.conditions),
        materials=[m.model_dump() for m in data.materials],
        limits={
            "statutory_limit_days": data.statutory_limit_days,
            "promised_limit_days": data.promised_limit_days,
            "fee": data.fee,
        },
        guide=data.guide,
    )
    return document_from_item(view)
