"""实施清单表格 The one spreadsheet template of the catalogue: columns named after the GB/T 39046 elements.

Sheet ``实施清单`` has one row per implementation entry; the optional sheet ``申请材料`` one row
per material (keyed by 实施编码 and 材料编码) with every material attribute. A CSV file is the
first sheet alone, whose ``申请材料`` column lists material names. Columns marked ``*`` in
:data:`ITEM_COLUMNS` are the elements the standard makes mandatory; every other cell may be
empty. Cells take codes or their Chinese names; lists are separated by 、 ; or line breaks.

Parsing never raises: every problem becomes a :class:`RowError` (sheet, row, column, reason)
so that a whole file is reported at once.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from openpyxl import Workbook
from pydantic import BaseModel, ValidationError
from python_calamine import CalamineWorkbook

from yiwang_common.contracts.codes import (
    BodyNature,
    CaseType,
    CodeSet,
    CrossRegionScope,
    ExerciseLevel,
    HandlingForm,
    ItemType,
    LegalPersonTheme,
    MaterialSource,
    MaterialType,
    NaturalPersonTheme,
    SpecialProcedure,
    VisitCount,
)
from yiwang_management.catalogue.schemas import Body, CatalogueEntryCreate, ImplementationContent, Material

ITEM_SHEET = "实施清单"
ORG_CODE_COLUMN = "实施主体统一社会信用代码"
MATERIAL_SHEET = "申请材料"
MAX_ROWS = 200_000
#: A full catalogue lists several materials per entry (~4 on average), so their sheet may be longer.
MAX_MATERIAL_ROWS = 10 * MAX_ROWS


class TooManyRows(ValueError):
    """A sheet longer than its limit, reported as a file error rather than failing the request."""

    def __init__(self, sheet: str, limit: int, row: int | None = None) -> None:
        super().__init__(f"表格“{sheet}”最多 {limit} 行")
        self.error = RowError(sheet, limit + 2 if row is None else row, "", str(self))


@dataclass(frozen=True)
class Column:
    """One column: its Chinese element name, the model field it fills, and how a cell converts."""

    name: str
    field: str
    kind: str = "text"  # text | lines | list | int | bool | code | codes
    code_set: type[CodeSet] | None = None
    required: bool = False
    target: str = "content"  # content | entry | key | org | fee


def _c(
    name: str, field_name: str, kind: str = "text", code_set: type[CodeSet] | None = None, **kw: Any
) -> Column:
    return Column(name=name, field=field_name, kind=kind, code_set=code_set, **kw)


ITEM_COLUMNS: tuple[Column, ...] = (
    _c("实施编码", "item_code", required=True, target="key"),
    _c("基本编码", "basic_code", required=True, target="both"),
    _c("事项名称", "name", required=True, target="entry"),
    _c("事项类型", "item_type", "code", ItemType, required=True, target="entry"),
    _c("设定依据", "legal_basis", "lines", required=True, target="entry"),
    _c("主项基本编码", "parent_basic_code", target="entry"),
    _c("行使层级", "exercise_level", "code", ExerciseLevel, required=True),
    _c("权限划分", "authority_division"),
    _c("行使内容", "exercise_content"),
    _c("实施主体", "implementing_org.name", required=True, target="org"),
    _c("实施主体统一社会信用代码", "implementing_org.code", required=True, target="org"),
    _c("实施主体性质", "body_nature", "code", BodyNature),
    _c("行政区划代码", "region_code", required=True),
    _c("服务对象", "service_objects", "codes", None, required=True),
    _c("面向自然人主题", "natural_person_themes", "codes", NaturalPersonTheme),
    _c("面向法人主题", "legal_person_themes", "codes", LegalPersonTheme),
    _c("办件类型", "case_type", "code", CaseType),
    _c("办理形式", "handling_forms", "codes", HandlingForm, required=True),
    _c("受理范围", "scope"),
    _c("受理条件", "conditions", "lines"),
    _c("申请材料", "materials", "list"),
    _c("中介服务", "intermediary_services", "list"),
    _c("办理流程", "process", "list"),
    _c("法定办结时限", "statutory_limit_days", "int", required=True),
    _c("承诺办结时限", "promised_limit_days", "int", required=True),
    _c("时限说明", "limit_notes"),
    _c("特别程序", "special_procedures", "codes", SpecialProcedure),
    _c("数量限制", "quantity_limit"),
    _c("结果名称", "result_name"),
    _c("结果样本", "result_sample_ref"),
    _c("是否收费", "fee_charged", "bool"),
    _c("收费项目", "fee.name", target="fee"),
    _c("收费标准", "fee.standard", target="fee"),
    _c("收费依据", "fee.basis", target="fee"),
    _c("通办范围", "cross_region_scope", "code", CrossRegionScope),
    _c("预约办理", "appointment", "bool"),
    _c("网上支付", "online_payment", "bool"),
    _c("物流快递", "delivery", "bool"),
    _c("办理地点", "place"),
    _c("办理时间", "hours"),
    _c("咨询电话", "enquiry_phone"),
    _c("监督投诉电话", "complaint_phone"),
    _c("审查标准", "review_standard"),
    _c("到办事现场次数", "visits", "code", VisitCount),
    _c("到现场办理原因说明", "visit_reason"),
    _c("网办地址", "online_url"),
    _c("上报审批机关", "decision_org"),
    _c("容缺受理", "deferred_acceptance", "bool"),
)
MATERIAL_COLUMNS: tuple[Column, ...] = (
    _c("实施编码", "item_code", required=True, target="key"),
    _c("材料编码", "code", required=True),
    _c("材料名称", "name", required=True),
    _c("材料类型", "material_type", "code", MaterialType),
    _c("来源渠道", "source", "code", MaterialSource),
    _c("来源渠道说明", "source_notes"),
    _c("纸质材料份数", "copies", "int"),
    _c("纸质材料规格", "paper_format"),
    _c("示例样表", "sample_ref"),
    _c("空白表格", "blank_form_ref"),
    _c("是否需电子材料", "electronic_required", "bool"),
    _c("材料必要性", "required", "bool"),
    _c("受理标准", "acceptance_standard"),
    _c("填报须知", "instructions"),
    _c("要求提供材料的依据", "legal_basis"),
    _c("可通过数据共享获取", "shareable", "bool"),
    _c("可容缺", "deferrable", "bool"),
)

_SPLIT = re.compile(r"[、;；\n]+")
_YES = {"是", "有", "y", "yes", "true", "1", "必要", "必须", "必需", "必要材料", "需要", "支持", "收费"}
_NO = {
    "否",
    "无",
    "n",
    "no",
    "false",
    "0",
    "非必要",
    "非必须",
    "非必需",
    "非必要材料",
    "不需要",
    "不支持",
    "不收费",
    "免费",
}
#: What lists write in an optional code or list cell that has nothing to say.
_NOTHING = frozenset({"无", "否", "没有", "不涉及", "不适用", "/", "-", "—", "——", "\\"})
#: 服务对象 "法人" (and 单位) as lists write it: every kind of legal person (GB/T 39046 A.4 2, 3, 4).
_ANY_LEGAL_PERSON = frozenset({"法人", "单位", "法人单位"})


@dataclass(frozen=True)
class RowError:
    """One problem of one cell (or of the whole row when ``column`` is empty)."""

    sheet: str
    row: int
    column: str
    reason: str


@dataclass
class ParsedRow:
    """A valid row: the 目录清单 entry, the 实施编码 and the version content."""

    row: int
    item_code: str
    entry: CatalogueEntryCreate
    content: ImplementationContent
    #: ``content`` as stored (JSON), dumped once here rather than again by every comparison.
    content_json: dict[str, Any] = field(default_factory=dict)
    #: ``entry`` as stored (JSON).
    entry_json: dict[str, Any] = field(default_factory=dict)
    #: :func:`row_hash` of the row's cells.
    source_hash: str = ""

    def __post_init__(self) -> None:
        if not self.content_json:
            self.content_json = self.content.model_dump(mode="json")
        if not self.entry_json:
            self.entry_json = self.entry.model_dump(mode="json")


@dataclass
class Progress:
    """How far a parse is, read by another task while it runs (plain ints: no lock needed)."""

    total: int = 0
    done: int = 0


@dataclass(frozen=True)
class SkippedRow:
    """A row whose hash equals that of the row its item's current version came from."""

    row: int
    item_code: str
    org_code: str


@dataclass
class ParsedFile:
    """Every valid row, every row skipped as unchanged and every error of a file."""

    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    total: int = 0
    skipped: list[SkippedRow] = field(default_factory=list)


def _text(value: Any) -> str:
    if type(value) is str:  # calamine's usual cell: the fast path of a 100k-row file
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _service_objects(text: str) -> list[str]:
    from yiwang_common.contracts.codes import ServiceObject

    if text in _ANY_LEGAL_PERSON:
        return [
            ServiceObject.ENTERPRISE.value,
            ServiceObject.INSTITUTION.value,
            ServiceObject.SOCIAL_ORGANISATION.value,
        ]
    return [ServiceObject.from_label(text).value]


def _convert(column: Column, raw: str) -> Any:
    if column.kind == "text":
        return raw
    if column.kind == "lines":
        return [line.strip() for line in raw.splitlines() if line.strip()]
    parts = [p.strip() for p in _SPLIT.split(raw) if p.strip()]
    if column.kind == "list":
        return parts
    if column.kind == "int":
        return _count(column, raw)
    if column.kind == "bool":
        if raw.lower() in _YES:
            return True
        if raw.lower() in _NO:
            return False
        raise ValueError("应为“是”或“否”")
    if column.kind == "code":
        assert column.code_set is not None
        try:
            return column.code_set.from_label(raw).value
        except ValueError:
            if column.code_set is not ExerciseLevel or len(parts) < 2:
                raise
        # A list's 行使层级 naming several levels (省级、市级、县级) is the standard's 分级管理.
        levels = {ExerciseLevel.from_label(p) for p in parts}
        return (ExerciseLevel.TIERED if len(levels) > 1 else levels.pop()).value
    # codes
    if column.field == "service_objects":
        return list(dict.fromkeys(code for p in parts for code in _service_objects(p)))
    assert column.code_set is not None
    # Two names of one member (听证、专家评审) are that member once.
    return list(dict.fromkeys(column.code_set.from_label(p).value for p in parts))


#: A time limit as lists write it: 20, 20个工作日, 20 工作日内 (the limits are in working days).
_WORKING_DAYS = re.compile(r"(\d{1,5})(?:个)?(?:工作日)?(?:内)?")
#: 即办件: decided on the spot, a limit of 0 working days.
_AT_ONCE = frozenset({"即办", "即时办结", "当场办结", "即办件", "当场办理"})
_COPIES = re.compile(r"(\d{1,5})(?:份)?")


def _count(column: Column, raw: str) -> int:
    text = _SPACE.sub("", unicodedata.normalize("NFKC", raw))
    if column.field.endswith("_limit_days"):
        if text in _AT_ONCE:
            return 0
        if (m := _WORKING_DAYS.fullmatch(text)) is None:
            raise ValueError("应为工作日数：如 20 或 20个工作日，即办填 0 或“即办”")
    elif (m := _COPIES.fullmatch(text)) is None:
        raise ValueError("应为非负整数")
    return int(m.group(1))


def _indices(columns: Sequence[Column], header: Sequence[str]) -> list[tuple[str, int]]:
    """Where each column of the template is in this file's header (absent columns: -1)."""
    by_name = {name: index for index, name in enumerate(header)}
    return [(c.name, by_name.get(c.name, -1)) for c in columns]


def _cells(indices: Sequence[tuple[str, int]], values: Sequence[Any]) -> dict[str, str]:
    width = len(values)
    # The hottest loop of a large import (46 cells a row): the common str cell is inlined.
    return {
        name: (v.strip() if type(v := values[i]) is str else _text(v)) if 0 <= i < width else ""
        for name, i in indices
    }


def _header_errors(
    sheet: str, columns: Sequence[Column], header: Sequence[str], row: int = 1
) -> list[RowError]:
    names = {c.name for c in columns}
    missing = [c.name for c in columns if c.required and c.name not in header]
    unknown = [h for h in header if h and h not in names and h not in IGNORED_COLUMNS]
    errors = [RowError(sheet, row, name, "缺少必填列") for name in missing]
    errors += [RowError(sheet, row, name, "不是模板中的列名") for name in unknown]
    return errors


#: Converted cells by (column, text): a real list repeats its codes, bodies and legal bases on
#: thousands of rows, so each distinct cell is converted once per file. Values are never mutated.
_Memo = dict[tuple[str, str], Any]


def _parse_cells(
    sheet: str,
    row: int,
    columns: Sequence[Column],
    cells: dict[str, str],
    errors: list[RowError],
    memo: _Memo | None = None,
) -> dict[str, Any] | None:
    values: dict[str, Any] = {}
    ok = True
    memo = {} if memo is None else memo
    for column in columns:
        raw = cells[column.name]
        if raw in _NOTHING and not column.required and column.kind in ("code", "codes", "list"):
            raw = ""
        if not raw:
            if column.required:
                errors.append(RowError(sheet, row, column.name, "必填项为空"))
                ok = False
            continue
        if column.kind == "text":
            values[column.name] = raw
            continue
        key = (column.name, raw)
        try:
            value = memo[key]
        except KeyError:
            try:
                value = memo[key] = _convert(column, raw)
            except ValueError as exc:
                errors.append(RowError(sheet, row, column.name, str(exc)))
                ok = False
                continue
        values[column.name] = value
    return values if ok else None


def _field_column(columns: Sequence[Column]) -> dict[str, str]:
    mapping = {c.field.split(".")[0]: c.name for c in columns}
    mapping["implementing_org"] = "实施主体统一社会信用代码"
    mapping["fees"] = "收费标准"
    return mapping


def _validation_errors(
    sheet: str, row: int, exc: ValidationError, columns: Sequence[Column], prefix: str = ""
) -> list[RowError]:
    mapping = _field_column(columns)
    errors = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        column = mapping.get(loc[0], "") if loc else ""
        if prefix and loc and loc[0] == "materials":
            column = prefix
        reason = str(error["msg"]).removeprefix("Value error, ")
        errors.append(RowError(sheet, row, column, reason))
    return errors


def _material(values: dict[str, Any]) -> dict[str, Any]:
    return {c.field: values[c.name] for c in MATERIAL_COLUMNS if c.name in values and c.target != "key"}


def _at(values: list[str] | None, index: int) -> str:
    return values[index] if values and index < len(values) else ""


def _validated(
    model: type[BaseModel], values: dict[str, Any], models: dict[tuple[Any, ...], BaseModel]
) -> Any:
    """The part of a row validated once per distinct value (the same body and the same materials
    recur on thousands of rows); invalid values stay as they are, for the row's own report."""
    key = (model, *values.items())
    try:
        return models[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable value (a list cell): validate it with the row
        return values
    try:
        found = models[key] = model.model_validate(values)
    except ValidationError:
        return values
    return found


#: Salt of the row hashes: change it when a cell's meaning changes, so that no row is skipped.
HASH_VERSION = "template-1"


def row_hash(cells: dict[str, str], materials: Sequence[dict[str, str]]) -> str:
    """sha256 of one 实施清单 row and its 申请材料 rows as written (what a re-import compares)."""
    parts = [HASH_VERSION, "\x1f".join(cells.values())]
    parts += ["\x1f".join(m.values()) for m in materials]
    return hashlib.sha256("\x1e".join(parts).encode()).hexdigest()


def build(
    item_rows: Iterable[tuple[int, dict[str, str]]],
    material_rows: Iterable[tuple[int, dict[str, str]]],
    progress: Progress | None = None,
    known: Mapping[str, str] | None = None,
) -> ParsedFile:
    """Validate rows already split into cells; see :func:`read_xlsx` / :func:`read_csv`.

    Args:
        known: per 实施编码 the hash of the row its current version came from; a row with the
            same hash is not validated again but listed in ``ParsedFile.skipped``.
    """
    parsed = ParsedFile()
    progress = progress or Progress()
    known = known or {}
    memo: _Memo = {}
    models: dict[tuple[Any, ...], BaseModel] = {}
    raw_materials: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for row, cells in material_rows:
        raw_materials.setdefault(cells["实施编码"], []).append((row, cells))
    seen: dict[str, int] = {}
    for row, cells in item_rows:
        parsed.total += 1
        progress.done = parsed.total
        raw_code = cells["实施编码"]
        own = raw_materials.pop(raw_code, [])
        if raw_code and raw_code in seen:
            parsed.errors.append(RowError(ITEM_SHEET, row, "实施编码", f"与第 {seen[raw_code]} 行重复"))
            continue
        if raw_code:
            seen[raw_code] = row
        digest = row_hash(cells, [c for _, c in own])
        if known.get(raw_code) == digest:
            parsed.skipped.append(SkippedRow(row=row, item_code=raw_code, org_code=cells[ORG_CODE_COLUMN]))
            continue
        materials: list[dict[str, Any]] = []
        for material_row, material_cells in own:
            material = _parse_cells(
                MATERIAL_SHEET, material_row, MATERIAL_COLUMNS, material_cells, parsed.errors, memo
            )
            if material is not None:
                materials.append(_material(material))
        values = _parse_cells(ITEM_SHEET, row, ITEM_COLUMNS, cells, parsed.errors, memo)
        if values is None:
            continue
        item_code = values["实施编码"]
        entry_values: dict[str, Any] = {}
        content: dict[str, Any] = {}
        fee: dict[str, Any] = {}
        for column in ITEM_COLUMNS:
            if column.name not in values:
                continue
            value = values[column.name]
            if column.target in ("entry", "both"):
                entry_values[column.field] = value
            if column.target in ("content", "both"):
                content[column.field] = value
            elif column.target == "org":
                content.setdefault("implementing_org", {})[column.field.split(".")[1]] = value
            elif column.target == "fee":
                fee[column.field.split(".")[1]] = value
        if fee:
            # One fee per "；"-separated part, the three columns aligned by position.
            parts = {key: [p.strip() for p in re.split("[；;]", text)] for key, text in fee.items()}
            count = max(len(p) for p in parts.values())
            default_name = f"{entry_values.get('name', '')}收费"
            content["fees"] = [
                {
                    "name": _at(parts.get("name"), i) or default_name,
                    "standard": _at(parts.get("standard"), i),
                    "basis": _at(parts.get("basis"), i),
                }
                for i in range(count)
            ]
            content.setdefault("fee_charged", True)
        if "process" in content:
            content["process"] = [{"name": name} for name in content["process"]]
        names = content.pop("materials", [])
        content["materials"] = materials or [
            {"code": f"M{i:02d}", "name": name} for i, name in enumerate(names, 1)
        ]
        try:
            entry = CatalogueEntryCreate.model_validate(entry_values)
        except ValidationError as exc:
            parsed.errors += _validation_errors(ITEM_SHEET, row, exc, ITEM_COLUMNS)
            continue
        content["materials"] = [_validated(Material, m, models) for m in content["materials"]]
        if "implementing_org" in content:
            content["implementing_org"] = _validated(Body, content["implementing_org"], models)
        try:
            implementation = ImplementationContent.model_validate(content)
        except ValidationError as exc:
            parsed.errors += _validation_errors(ITEM_SHEET, row, exc, ITEM_COLUMNS, prefix="申请材料")
            continue
        if problem := implementation.check_codes(item_code):
            parsed.errors.append(RowError(ITEM_SHEET, row, "实施编码", problem))
            continue
        parsed.rows.append(
            ParsedRow(row=row, item_code=item_code, entry=entry, content=implementation, source_hash=digest)
        )
    for item_code, rows in raw_materials.items():
        for material_row, _cells_of_row in rows:
            parsed.errors.append(
                RowError(MATERIAL_SHEET, material_row, "实施编码", f"{item_code} 不在实施清单表中")
            )
    progress.total = parsed.total
    return parsed


def _body(
    rows: Sequence[Sequence[Any]],
    sheet: str,
    columns: Sequence[Column],
    header: Sequence[str],
    limit: int,
    start: int = 2,
) -> Iterator[tuple[int, dict[str, str]]]:
    """(sheet row number, cells) of the rows below the header; ``start`` is the first one's number."""
    indices = _indices(columns, header)
    for number, values in enumerate(rows, start=start):
        if number - start >= limit:
            raise TooManyRows(sheet, limit, number)
        cells = _cells(indices, values)
        # Only template columns count: a header with another column was refused before.
        if any(cells.values()):
            yield number, cells


@dataclass
class RawFile:
    """A file read into rows of cell values, its header checked, nothing validated yet."""

    errors: list[RowError] = field(default_factory=list)
    item_header: list[str] = field(default_factory=list)
    items: Sequence[Sequence[Any]] = ()
    material_header: list[str] = field(default_factory=list)
    materials: Sequence[Sequence[Any]] = ()
    #: Sheet row numbers of the first row below each header (a title may stand above a header).
    item_start: int = 2
    material_start: int = 2

    @property
    def row_count(self) -> int:
        """Rows below the header (empty ones included)."""
        return len(self.items)

    def item_codes(self) -> list[str]:
        """The 实施编码 cells, to look up what the file's items hold now before validating."""
        if self.errors or "实施编码" not in self.item_header:
            return []
        index = self.item_header.index("实施编码")
        return [code for v in self.items if len(v) > index and (code := _text(v[index]))]

    def parse(self, progress: Progress | None = None, known: Mapping[str, str] | None = None) -> ParsedFile:
        """Validate every row (see :func:`build`); a file error stops before the rows."""
        if self.errors:
            return ParsedFile(errors=list(self.errors))
        items = _body(self.items, ITEM_SHEET, ITEM_COLUMNS, self.item_header, MAX_ROWS, self.item_start)
        materials = _body(
            self.materials,
            MATERIAL_SHEET,
            MATERIAL_COLUMNS,
            self.material_header,
            MAX_MATERIAL_ROWS,
            self.material_start,
        )
        try:
            return build(items, materials, progress, known)
        except TooManyRows as exc:
            return ParsedFile(errors=[exc.error])


#: How far down a sheet its header may stand (below a title, a date, a note on how to fill it).
HEADER_SEARCH_ROWS = 10


def _sheet(
    rows: list[list[Any]], sheet: str, columns: tuple[Column, ...]
) -> tuple[list[RowError], list[str], list[list[Any]], int]:
    """The header's errors, the header, the rows below it and the sheet row number of the first.

    The header is the first of the top rows with two or more of the template's column names: a
    list often opens with a title row (“××县政务服务事项实施清单”) or a note above it. With none,
    the first row is the header, and its errors say what is missing.
    """
    if not rows:
        return [RowError(sheet, 1, "", "表格为空")], [], [], 2
    at = _header_row(rows, columns) or 0
    header = [_header_name(h, columns) for h in rows[at]]
    return _header_errors(sheet, columns, header, at + 1), header, rows[at + 1 :], at + 2


#: Bookkeeping columns real lists carry beside the elements (a running number, a remark): read
#: past, neither refused as unknown nor imported.
IGNORED_COLUMNS = frozenset({"序号", "备注"})
# A mandatory-column mark around a header: 事项名称*, *事项名称, 事项名称(必填) (full width after NFKC).
_HEADER_MARK = re.compile(r"^\*+|\*+$|\((?:必填|选填|非必填|可选)\)$")
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=4)
def _names_by_key(columns: tuple[Column, ...]) -> dict[str, str]:
    """The template's column names by their folded form (see :func:`_header_key`)."""
    return {_header_key(c.name): c.name for c in columns}


def _header_row(rows: Sequence[Sequence[Any]], columns: tuple[Column, ...]) -> int | None:
    """Index of the first of the top rows with two or more of the template's column names."""
    keys = _names_by_key(columns)
    return next(
        (
            k
            for k, row in enumerate(rows[:HEADER_SEARCH_ROWS])
            if sum(1 for cell in row if (text := _text(cell)) and _header_key(text) in keys) >= 2
        ),
        None,
    )


def _header_key(name: str) -> str:
    return _HEADER_MARK.sub("", _SPACE.sub("", unicodedata.normalize("NFKC", name)))


def _header_name(cell: Any, columns: tuple[Column, ...]) -> str:
    """The template's name of a header cell written the way people write them: with a line
    break, spaces, full-width characters or a mandatory mark (``*`` or ``（必填）``)."""
    text = _text(cell)
    if not text:
        return text
    key = _header_key(text)
    if (name := _names_by_key(columns).get(key)) is not None:
        return name
    return key if key in IGNORED_COLUMNS else text


def _values(workbook: CalamineWorkbook, name: str) -> list[list[Any]]:
    """A sheet's cells from A1, every cell of a merged range holding the range's value."""
    sheet = workbook.get_sheet_by_name(name)
    values: list[list[Any]] = sheet.to_python(skip_empty_area=False)
    _fill_merged(values, sheet.merged_cell_ranges or ())
    return values


def _fill_merged(values: list[list[Any]], ranges: Iterable[tuple[tuple[int, int], tuple[int, int]]]) -> None:
    """Give every cell of a merged range the value of its top-left cell, as the sheet shows it.

    Lists merge a 事项名称 or a 实施主体 over the rows of its sub-items; a reader sees the value in
    each of those rows, calamine only in the first. Ranges are cut to the sheet's data, and the
    cells filled are bounded by a few times the sheet's own, so that a crafted file's overlapping
    sheet-wide ranges cannot make the import loop for hours.
    """
    width = max((len(row) for row in values), default=0)
    budget = 4 * max(width * len(values), 1)
    for (r0, c0), (r1, c1) in ranges:
        if r0 >= len(values) or c0 >= len(values[r0]):
            continue
        value = values[r0][c0]
        if value is None or value == "":
            continue
        last_row, last_col = min(r1, len(values) - 1), min(c1, width - 1)
        budget -= (last_row - r0 + 1) * (last_col - c0 + 1)
        if budget < 0:
            return
        for r in range(r0, last_row + 1):
            row = values[r]
            if len(row) <= last_col:
                row.extend([""] * (last_col + 1 - len(row)))
            for c in range(c0, last_col + 1):
                row[c] = value


def read_raw_xlsx(data: bytes) -> RawFile:
    """Read a workbook of the template, xlsx or the older xls (calamine reads both, fast)."""
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own error types for every broken file
        return RawFile(errors=[RowError("", 0, "", f"无法读取 Excel 文件：{exc}")])
    names = workbook.sheet_names
    try:
        if ITEM_SHEET in names:
            item_values = _values(workbook, ITEM_SHEET)
        else:
            # Named otherwise (Sheet1, 2026年实施清单), perhaps after a sheet of instructions: the
            # first sheet with the template's header, else the first sheet (whose header errors
            # then say what is missing).
            item_values = []
            for name in names:
                if name == MATERIAL_SHEET:
                    continue
                values = _values(workbook, name)
                if not item_values:
                    item_values = values
                if _header_row(values, ITEM_COLUMNS) is not None:
                    item_values = values
                    break
        material_values = _values(workbook, MATERIAL_SHEET) if MATERIAL_SHEET in names else []
    except Exception as exc:  # a sheet calamine cannot decode
        return RawFile(errors=[RowError("", 0, "", f"无法读取 Excel 文件：{exc}")])
    errors, header, items, start = _sheet(item_values, ITEM_SHEET, ITEM_COLUMNS)
    raw = RawFile(errors=errors, item_header=header, items=items, item_start=start)
    if MATERIAL_SHEET in names:
        material_errors, raw.material_header, raw.materials, raw.material_start = _sheet(
            material_values, MATERIAL_SHEET, MATERIAL_COLUMNS
        )
        raw.errors += material_errors
    return raw


def read_raw_csv(data: bytes) -> RawFile:
    """Read a CSV file of the first sheet (UTF-8, with or without BOM; GB18030 as Excel saves it)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes every byte string
        return RawFile(errors=[RowError("", 0, "", "无法识别文件编码")])
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        return RawFile(errors=[RowError("", 0, "", f"无法读取 CSV 文件：{exc}")])
    errors, header, items, start = _sheet(rows, ITEM_SHEET, ITEM_COLUMNS)
    return RawFile(errors=errors, item_header=header, items=items, item_start=start)


RAW_READERS: dict[str, Callable[[bytes], RawFile]] = {
    "xlsx": read_raw_xlsx,
    "xls": read_raw_xlsx,
    "csv": read_raw_csv,
}


def read_xlsx(data: bytes, progress: Progress | None = None) -> ParsedFile:
    """Validate an xlsx workbook of the template."""
    return read_raw_xlsx(data).parse(progress)


def read_csv(data: bytes, progress: Progress | None = None) -> ParsedFile:
    """Validate a CSV file of the first sheet."""
    return read_raw_csv(data).parse(progress)


# --- writing -----------------------------------------------------------------------------------


def _cell(column: Column, value: Any) -> str:
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if column.code_set is not None or column.field == "service_objects":
        from yiwang_common.contracts.codes import ServiceObject

        code_set: type[CodeSet] = column.code_set or ServiceObject
        codes = value if isinstance(value, list) else [value]
        return "、".join(code_set.of(str(c)).label for c in codes)
    if column.kind == "lines":
        return "\n".join(value)
    if isinstance(value, list):
        return "、".join(v["name"] if isinstance(v, dict) else str(v) for v in value)
    return str(value)


def item_cells(item_code: str, entry: dict[str, Any], content: dict[str, Any]) -> list[str]:
    """One row of the 实施清单 sheet."""
    cells = []
    for column in ITEM_COLUMNS:
        if column.target == "key":
            value: Any = item_code
        elif column.target == "entry":
            value = entry.get(column.field)
        elif column.target == "org":
            value = content["implementing_org"][column.field.split(".")[1]]
        elif column.target == "fee":
            fees = content.get("fees") or []
            value = "；".join(f[column.field.split(".")[1]] for f in fees)
        else:
            value = content.get(column.field)
        cells.append(_cell(column, value))
    return cells


def material_cells(item_code: str, material: dict[str, Any]) -> list[str]:
    """One row of the 申请材料 sheet."""
    return [_cell(c, item_code if c.target == "key" else material.get(c.field)) for c in MATERIAL_COLUMNS]


Row = tuple[str, dict[str, Any], dict[str, Any]]


def write_xlsx(rows: Iterable[Row]) -> bytes:
    """The template workbook holding ``rows`` (none: the blank template)."""
    workbook = Workbook(write_only=True)
    items = workbook.create_sheet(ITEM_SHEET)
    materials = workbook.create_sheet(MATERIAL_SHEET)
    items.append([f"{c.name}" for c in ITEM_COLUMNS])
    materials.append([c.name for c in MATERIAL_COLUMNS])
    for item_code, entry, content in rows:
        items.append(item_cells(item_code, entry, content))
        for material in content.get("materials", []):
            materials.append(material_cells(item_code, material))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_csv(rows: Iterable[Row]) -> bytes:
    """The first sheet as CSV (UTF-8 with BOM, so that Excel opens it in Chinese)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.name for c in ITEM_COLUMNS])
    for item_code, entry, content in rows:
        writer.writerow(item_cells(item_code, entry, content))
    return ("\ufeff" + buffer.getvalue()).encode()


def required_columns() -> list[str]:
    """The mandatory columns, for the documentation of the template."""
    return [c.name for c in ITEM_COLUMNS if c.required]


Reader = Callable[[bytes, Progress | None], ParsedFile]
