"""Registry files (CSV or xlsx) read into validated rows; the format is in docs/base-registries.md.

Reading is separate from loading so that the API and the command line check a file the same way
and report every bad row at once: its row number as a spreadsheet shows it (the header is row 1),
the column by its header, and the reason in zh-CN.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from python_calamine import CalamineWorkbook

from yiwang_common.checkdigits import resident_id_valid, uscc_valid
from yiwang_common.text import forbidden_character

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_ZIP_MAGIC = b"PK\x03\x04"


class Registry(StrEnum):
    """基础库: which registry a file or a lookup is about."""

    POPULATION = "population"
    LEGAL_PERSON = "legal_person"

    @property
    def label(self) -> str:
        """The registry's Chinese name."""
        return "人口库" if self is Registry.POPULATION else "法人库"


@dataclass(frozen=True)
class Column:
    """One column of a registry file: its key, the header names it is known by, whether required."""

    key: str
    headers: tuple[str, ...]
    required: bool
    check: Callable[[str], str | None]
    max_length: int

    @property
    def title(self) -> str:
        """The header the docs and the errors use."""
        return self.headers[0]


@dataclass(frozen=True)
class RowError:
    """One problem of one row: 行 row (as a spreadsheet numbers it), 列 column, 原因 reason."""

    row: int
    column: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """The error as the job status reports it."""
        return {"row": self.row, "column": self.column, "reason": self.reason}


@dataclass
class ParsedFile:
    """The valid rows of a file (key → values) and the errors of the others."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    total_rows: int = 0


class FileUnreadable(ValueError):
    """The file as a whole cannot be read (not CSV/xlsx, no header, a required column missing)."""


def id_birth_date(id_number: str) -> date | None:
    """The date of birth positions 7-14 of a 公民身份号码 encode, or None if it is no real date."""
    try:
        born = date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None
    return born if date(1880, 1, 1) <= born <= date.today() else None


def id_number_problem(value: str) -> str | None:
    """Why a 公民身份号码 is not valid (GB 11643), or None."""
    if len(value) != 18:
        return f"公民身份号码应为 18 位，实为 {len(value)} 位"
    if not resident_id_valid(value):
        return "公民身份号码校验码错误 (GB 11643)"
    if id_birth_date(value) is None:
        return "公民身份号码中的出生日期无效"
    return None


def credit_code_problem(value: str) -> str | None:
    """Why a 统一社会信用代码 is not valid (GB 32100), or None."""
    if len(value) != 18:
        return f"统一社会信用代码应为 18 位，实为 {len(value)} 位"
    if not uscc_valid(value):
        return "统一社会信用代码校验码错误或含非法字符 (GB 32100)"
    return None


def _text(value: str) -> str | None:
    return forbidden_character(value)


def _gender(value: str) -> str | None:
    return None if value in ("男", "女") else "性别应为“男”或“女”"


def _date(value: str) -> str | None:
    try:
        date.fromisoformat(value)
    except ValueError:
        return "日期应为 YYYY-MM-DD"
    return None


def _status(value: str) -> str | None:
    return None if value in LEGAL_STATUSES else f"登记状态应为 {'、'.join(LEGAL_STATUSES)} 之一"


#: 登记状态 a unit may have in the legal-person registry; only 存续 units may register.
LEGAL_STATUSES = ("存续", "在业", "吊销", "注销", "迁出")
ACTIVE_STATUSES = ("存续", "在业")

COLUMNS: dict[Registry, tuple[Column, ...]] = {
    Registry.POPULATION: (
        Column("id_number", ("公民身份号码", "身份证号码", "id_number"), True, id_number_problem, 18),
        Column("name", ("姓名", "name"), True, _text, 100),
        Column("gender", ("性别", "gender"), False, _gender, 2),
        Column("address", ("住址", "address"), False, _text, 300),
    ),
    Registry.LEGAL_PERSON: (
        Column("credit_code", ("统一社会信用代码", "credit_code"), True, credit_code_problem, 18),
        Column("name", ("单位名称", "名称", "name"), True, _text, 200),
        Column("legal_rep_name", ("法定代表人", "legal_rep_name"), True, _text, 100),
        Column(
            "legal_rep_id_number",
            ("法定代表人公民身份号码", "法定代表人身份证号码", "legal_rep_id_number"),
            True,
            id_number_problem,
            18,
        ),
        Column("address", ("住所", "address"), False, _text, 300),
        Column("established_on", ("成立日期", "established_on"), False, _date, 10),
        Column("status", ("登记状态", "status"), False, _status, 20),
    ),
}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        # A spreadsheet keeps an all-digit id number as a number; never show it as 5.3e17.
        value = int(value)
    if isinstance(value, date):
        return value.isoformat()[:10]
    return unicodedata.normalize("NFC", str(value)).strip()


def _table(content: bytes, filename: str) -> Iterator[Sequence[Any]]:
    if content.startswith(_ZIP_MAGIC) or filename.lower().endswith(".xlsx"):
        try:
            sheet = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0)
            rows = sheet.to_python(skip_empty_area=False)
        except Exception as exc:  # calamine raises its own error types for every broken file
            raise FileUnreadable("无法读取 xlsx 文件 (not a readable xlsx workbook)") from exc
        yield from rows
        return
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileUnreadable("CSV 文件须为 UTF-8 编码 (a CSV file must be UTF-8)") from exc
    try:
        yield from csv.reader(io.StringIO(text, newline=""))
    except csv.Error as exc:
        raise FileUnreadable(f"CSV 格式错误：{exc}") from exc


def parse_registry_file(registry: Registry, content: bytes, filename: str) -> ParsedFile:
    """Read and check every row of a registry file.

    Args:
        registry: which registry the file is for.
        content: the file's bytes (CSV in UTF-8, or xlsx; the first sheet).
        filename: its name, for the type when the bytes do not tell.

    Returns:
        The valid rows, keyed by column, and the errors of the invalid ones. A row whose key
        (身份号码 / 信用代码) an earlier row of the file already had is an error: the file says two
        different things about one person or unit.

    Raises:
        FileUnreadable: if the file has no header or lacks a required column.
    """
    table = _table(content, filename)
    header = next(table, None)
    if header is None:
        raise FileUnreadable("文件为空：第 1 行应为表头 (the first row must be the header)")
    titles = [_cell(h) for h in header]
    columns = COLUMNS[registry]
    positions: dict[str, int] = {}
    for column in columns:
        for index, title in enumerate(titles):
            if title in column.headers:
                positions[column.key] = index
                break
        else:
            if column.required:
                raise FileUnreadable(f"缺少必填列“{column.title}” (missing column {column.headers[-1]})")
    parsed = ParsedFile()
    key = columns[0]
    first_row_of: dict[str, int] = {}
    for number, raw in enumerate(table, start=2):
        cells = [_cell(v) for v in raw]
        if not any(cells):
            continue  # blank lines at the end of a sheet are not rows
        parsed.total_rows += 1
        values: dict[str, Any] = {}
        problems: list[RowError] = []
        for column in columns:
            at = positions.get(column.key)
            value = cells[at] if at is not None and at < len(cells) else ""
            if column.key in ("id_number", "legal_rep_id_number", "credit_code"):
                value = value.upper()
            if not value:
                if column.required:
                    problems.append(RowError(number, column.title, "必填项为空"))
                values[column.key] = None
                continue
            if len(value) > column.max_length:
                problems.append(RowError(number, column.title, f"超过 {column.max_length} 个字符"))
            elif reason := column.check(value):
                problems.append(RowError(number, column.title, reason))
            values[column.key] = value
        if not problems and registry is Registry.POPULATION:
            problems.extend(_population_row(number, values))
        if not problems:
            earlier = first_row_of.setdefault(values[key.key], number)
            if earlier != number:
                problems.append(RowError(number, key.title, f"与第 {earlier} 行重复"))
        if problems:
            parsed.errors.extend(problems)
            continue
        parsed.rows.append(_typed(registry, values))
    return parsed


def _population_row(number: int, values: dict[str, Any]) -> list[RowError]:
    gender = values.get("gender")
    if gender is None:
        return []
    # GB 11643: the 17th digit (顺序码's last) is odd for men, even for women.
    coded = "男" if int(values["id_number"][16]) % 2 else "女"
    if gender != coded:
        return [RowError(number, "性别", f"与公民身份号码不符（号码表示{coded}）")]
    return []


def _typed(registry: Registry, values: dict[str, Any]) -> dict[str, Any]:
    if registry is Registry.POPULATION:
        values["birth_date"] = id_birth_date(values["id_number"])
    else:
        if values.get("established_on"):
            values["established_on"] = date.fromisoformat(values["established_on"])
        values["status"] = values.get("status") or "存续"
    return values
