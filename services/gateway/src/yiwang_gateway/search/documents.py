"""From a catalogue row (the ItemPublished projection) to a :class:`SearchDocument`.

The elements the current contract has no field for are read from the guide, under these keys (the
GB/T 39046 element name first, an English alias second); when the catalogue grows columns for
them, only this module changes:

* 主题分类 / themes, 人生事件 / life_events, 别名 / aliases, 关键词 / keywords — a list or a
  string separated by 、，, ; — the GB/T 39046 主题 code sets and the portal's life events;
* 是否网办 / online — bool or 是/否; 办理形式 containing 网上 also counts as online.
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

from yiwang_gateway.search.engine import LEVEL_NAMES, SearchDocument, level_of

_SPLIT = re.compile(r"[、,，;；/]+")
_LEGAL = ("法人", "企业", "组织", "机关", "单位", "个体工商户")


def _list(guide: dict[str, Any], *keys: str) -> tuple[str, ...]:
    for key in keys:
        value = guide.get(key)
        if isinstance(value, list):
            return tuple(str(v).strip() for v in value if str(v).strip())
        if isinstance(value, str) and value.strip():
            return tuple(v.strip() for v in _SPLIT.split(value) if v.strip())
    return ()


def _online(guide: dict[str, Any]) -> bool | None:
    value = guide.get("是否网办", guide.get("online"))
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip():
        return value.strip() in ("是", "true", "yes", "1", "全程网办", "可网办")
    forms = guide.get("办理形式")
    if isinstance(forms, str | list) and forms:
        return "网上" in "".join(forms) if isinstance(forms, list) else "网上" in forms
    return None


def service_objects(raw: list[Any]) -> tuple[str, ...]:
    """服务对象 → ``natural`` 自然人 and/or ``legal`` 法人 (企业法人, 社会组织, 个体工商户 …)."""
    out: set[str] = set()
    for value in raw:
        text = str(value)
        if "自然人" in text or "个人" in text or "公民" in text:
            out.add("natural")
        if any(k in text for k in _LEGAL):
            out.add("legal")
    return tuple(sorted(out))


def _text(item: Any) -> str:
    parts: list[str] = [item.scope, *item.conditions]
    parts += [str(m.get("name", "")) for m in item.materials]
    for key, value in item.guide.items():
        if key in ("主题分类", "themes", "人生事件", "life_events", "别名", "aliases", "关键词", "keywords"):
            continue
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, list):
            parts.extend(str(v) for v in value if isinstance(v, str))
    return "。".join(p for p in parts if p)


def document_from_item(item: Any) -> SearchDocument:
    """``item`` is a ``CatalogueItem`` (or anything with its attributes)."""
    guide: dict[str, Any] = item.guide or {}
    limits: dict[str, Any] = item.limits or {}
    fee = str(limits.get("fee") or "不收费")
    text = _text(item)
    payload = {
        "item_code": item.item_code,
        "name": item.name,
        "item_type": item.item_type,
        "department": item.org.get("name", ""),
        "department_code": item.org.get("code", ""),
        "region_code": item.region_code,
        "level": level_of(item.region_code),
        "level_name": LEVEL_NAMES[level_of(item.region_code)],
        "service_object": list(item.service_object),
        "promised_limit_days": limits.get("promised_limit_days"),
        "statutory_limit_days": limits.get("statutory_limit_days"),
        "online": _online(guide),
        "fee": fee,
        "free": fee in ("不收费", "免费", "0", "无"),
        "themes": list(_list(guide, "主题分类", "themes")),
        "life_events": list(_list(guide, "人生事件", "life_events")),
        "snippet_source": text[:400],
    }
    return SearchDocument(
        id=item.item_code,
        name=item.name,
        region_code=item.region_code,
        department=item.org.get("name", ""),
        department_code=item.org.get("code", ""),
        aliases=_list(guide, "别名", "aliases") + _list(guide, "关键词", "keywords"),
        themes=_list(guide, "主题分类", "themes"),
        events=_list(guide, "人生事件", "life_events"),
        objects=service_objects(list(item.service_object)),
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
