"""View models of the portal pages: what a template receives, already shaped for display."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlencode

ServiceObject = Literal["natural_person", "legal_person"]

#: 服务对象 as the portal groups it: 个人 (自然人) and 法人 (企业、事业单位、社会组织 …).
OBJECT_NAMES: dict[str, str] = {"natural_person": "自然人（个人办事）", "legal_person": "法人（企业办事）"}


@dataclass(frozen=True)
class SearchFilters:
    """What a citizen asked for on the results page; lists are OR within, AND across."""

    q: str = ""
    departments: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()
    page: int = 1

    @property
    def active(self) -> bool:
        return bool(self.departments or self.levels or self.themes or self.objects)

    def href(self, *, page: int = 1, keep_filters: bool = True) -> str:
        """The results page URL for these filters (the form's own GET encoding)."""
        params: list[tuple[str, str]] = [("q", self.q)] if self.q else []
        if keep_filters:
            params += [("object", v) for v in self.objects]
            params += [("theme", v) for v in self.themes]
            params += [("department", v) for v in self.departments]
            params += [("level", v) for v in self.levels]
        if page > 1:
            params.append(("page", str(page)))
        return "/search?" + urlencode(params)


@dataclass(frozen=True)
class ResultHit:
    """One result: what a citizen needs to decide whether this is the service they want."""

    item_code: str
    name: str
    item_type: str
    department: str
    region_code: str
    level: str
    level_name: str
    service_object: tuple[str, ...]
    objects: tuple[str, ...]
    themes: tuple[str, ...]
    promised_limit_days: int | None
    fee: str
    online: bool | None


@dataclass(frozen=True)
class FacetOption:
    """One choice of a filter, with how many results it would leave."""

    value: str
    label: str
    count: int
    selected: bool


@dataclass(frozen=True)
class Facet:
    """One filter dimension (部门, 层级, 主题, 服务对象)."""

    name: str  # the query parameter
    label: str
    options: tuple[FacetOption, ...]


@dataclass(frozen=True)
class ResultPage:
    """A page of results with the filters that narrow them."""

    hits: tuple[ResultHit, ...]
    total: int
    page: int
    pages: int
    facets: tuple[Facet, ...] = ()


@dataclass(frozen=True)
class ChecklistEntry:
    """One line of 'what do I need' (我需要准备什么): a material or a condition to check."""

    key: str
    label: str
    required: bool
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class GuideFact:
    """One element of the 办事指南 shown as a term and its value(s)."""

    term: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class ThemeEntry:
    """A theme entry point on the home page (面向自然人 / 面向法人)."""

    label: str
    href: str
    count: int


@dataclass(frozen=True)
class ThemeGroup:
    """The home page's 个人办事 or 法人办事 column."""

    object: str
    title: str
    href: str
    count: int
    themes: tuple[ThemeEntry, ...] = field(default_factory=tuple)
