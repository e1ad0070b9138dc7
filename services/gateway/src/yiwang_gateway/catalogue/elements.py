"""GB/T 39046 elements read off a catalogue row, the one reading the index and the pages share.

The elements the current contract has no field for are read from the guide, under these keys (the
GB/T 39046 element name first, an English alias second); when the catalogue grows columns for
them, only this module changes:

* 主题分类 / themes, 人生事件 / life_events, 别名 / aliases, 关键词 / keywords — a list or a
  string separated by 、，, ; / — the GB/T 39046 主题 code sets and the portal's life events;
* 是否网办 / online — bool or 是/否; 办理形式 containing 网上 also counts as online.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

Level = Literal["province", "city", "county"]
#: 行使层级 and its Chinese name, in the order the portal lists them.
LEVEL_NAMES: dict[str, str] = {"province": "省级", "city": "市级", "county": "县级"}

#: Guide keys that classify the item or feed the search (read by :func:`guide_list`), not guide prose.
CLASSIFYING_KEYS = frozenset(
    {"主题分类", "themes", "人生事件", "life_events", "别名", "aliases", "关键词", "keywords"}
)

_SPLIT = re.compile(r"[、,，;；/]+")
_LEGAL_WORDS = ("法人", "企业", "组织", "机关", "单位", "个体工商户")
_NATURAL_WORDS = ("自然人", "个人", "公民")
_ONLINE_WORDS = ("是", "true", "yes", "1", "全程网办", "可网办")
_FREE_WORDS = ("不收费", "免费", "0", "无")


def level_of(region_code: str) -> Level:
    """行使层级 from a GB/T 2260 code: xx0000 province, xxxx00 city, otherwise county."""
    if region_code.endswith("0000"):
        return "province"
    if region_code.endswith("00"):
        return "city"
    return "county"


def guide_list(guide: Mapping[str, Any], *keys: str) -> tuple[str, ...]:
    """A guide element that is a list, or a string of values separated by 、，; /; the first key set wins."""
    for key in keys:
        value = guide.get(key)
        if isinstance(value, list):
            return tuple(str(v).strip() for v in value if str(v).strip())
        if isinstance(value, str) and value.strip():
            return tuple(v.strip() for v in _SPLIT.split(value) if v.strip())
    return ()


def service_objects(raw: Iterable[Any]) -> tuple[str, ...]:
    """服务对象 → ``natural`` 自然人 and/or ``legal`` 法人 (企业法人, 社会组织, 个体工商户 …)."""
    out: set[str] = set()
    for value in raw:
        text = str(value)
        if any(w in text for w in _NATURAL_WORDS):
            out.add("natural")
        if any(w in text for w in _LEGAL_WORDS):
            out.add("legal")
    return tuple(sorted(out))


def online_of(guide: Mapping[str, Any]) -> bool | None:
    """是否网办: the explicit element, else whether 办理形式 names 网上办理; None when unknown."""
    value = guide.get("是否网办", guide.get("online"))
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip():
        return value.strip().lower() in _ONLINE_WORDS
    forms = guide.get("办理形式")
    if isinstance(forms, list) and forms:
        return any("网上" in str(f) for f in forms)
    if isinstance(forms, str) and forms:
        return "网上" in forms
    return None


def fee_of(limits: Mapping[str, Any]) -> tuple[str, bool]:
    """收费标准 as shown (不收费 when empty) and whether that means free."""
    fee = str(limits.get("fee") or "不收费")
    return fee, fee in _FREE_WORDS
