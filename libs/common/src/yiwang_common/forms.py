"""申请表 Form data checked against an item's ``form_schema`` (JSON Schema Draft 2020-12).

The schema is whatever the item's owner wrote, so it is validated as a schema when it is stored
(:func:`schema_errors`), and a form is validated by the maintained ``jsonschema`` package with
every keyword and a format checker that checks real dates (``2027-02-30`` is not one). Limits
that hold whatever the schema says (size, depth, string length, clean text) are checked first:
the form travels in events whose size the bus bounds (ADR 0012).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import orjson
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError

from yiwang_common.text import json_text_problem

#: Most bytes of a form, serialised as compact UTF-8 JSON.
FORM_MAX_BYTES = 64 * 1024
#: Most characters of one string value of a form.
FORM_MAX_STRING = 10_000
#: Deepest nesting of objects and arrays.
FORM_MAX_DEPTH = 16
#: Most bytes of a form schema, serialised.
SCHEMA_MAX_BYTES = 64 * 1024
_INT64 = 2**63

_FORMAT_CHECKER = Draft202012Validator.FORMAT_CHECKER


def _pointer(path: Iterable[Any]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _error(pointer: str, title: str | None, message: str) -> dict[str, str]:
    field = pointer.split("/")[1].replace("~1", "/").replace("~0", "~") if pointer.count("/") else ""
    return {"pointer": pointer, "field": field, "title": title or field or "申请表", "error": message}


def _limit_problem(value: Any, pointer: str, depth: int) -> dict[str, str] | None:
    if depth > FORM_MAX_DEPTH:
        return _error(pointer, None, f"嵌套层级过深，最多 {FORM_MAX_DEPTH} 层")
    if isinstance(value, float) and not math.isfinite(value):
        return _error(pointer, None, "数值必须是有限数")
    if isinstance(value, int) and not isinstance(value, bool) and not -_INT64 <= value < _INT64:
        return _error(pointer, None, "整数超出范围")
    if isinstance(value, str) and len(value) > FORM_MAX_STRING:
        return _error(pointer, None, f"内容过长，最多 {FORM_MAX_STRING} 个字符")
    if isinstance(value, dict):
        children: Iterable[tuple[Any, Any]] = value.items()
    elif isinstance(value, list):
        children = enumerate(value)
    else:
        return None
    for key, child in children:
        if problem := _limit_problem(
            child, f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}", depth + 1
        ):
            return problem
    return None


def value_problems(form: dict[str, Any]) -> list[dict[str, str]]:
    """Check what holds for every form whatever its schema: clean text, finite numbers, size, depth.

    Args:
        form: the submitted form.

    Returns:
        At most one error (``pointer``, ``field``, ``title``, ``error``); empty when the form is fit to store.
    """
    if found := json_text_problem(form):
        pointer, message = found
        return [_error(pointer, None, message)]
    if problem := _limit_problem(form, "", 0):
        return [problem]
    size = len(orjson.dumps(form))
    if size > FORM_MAX_BYTES:
        return [_error("", "申请表", f"申请表过大（{size} 字节），最多 {FORM_MAX_BYTES} 字节")]
    return []


def _title(schema: Any, fallback: str) -> str:
    if isinstance(schema, dict) and isinstance(schema.get("title"), str):
        return str(schema["title"])
    return fallback


def _message(error: ValidationError) -> str:
    keyword, expected = error.validator, error.validator_value
    messages: dict[str, str] = {
        "type": f"应为 {expected} 类型",
        "minimum": f"不得小于 {expected}",
        "maximum": f"不得大于 {expected}",
        "exclusiveMinimum": f"必须大于 {expected}",
        "exclusiveMaximum": f"必须小于 {expected}",
        "multipleOf": f"必须是 {expected} 的整数倍",
        "minLength": f"至少 {expected} 个字符",
        "maxLength": f"最多 {expected} 个字符",
        "pattern": "格式不正确",
        "enum": "取值不在允许范围内",
        "const": "取值不正确",
        "minItems": f"至少 {expected} 项",
        "maxItems": f"最多 {expected} 项",
        "uniqueItems": "不得有重复项",
        "format": "不是有效的日期" if expected == "date" else f"不符合 {expected} 格式",
        "additionalProperties": "表单中没有该字段",
        "required": "必填项未填写",
    }
    return messages.get(str(keyword), "不符合填写要求")


def _errors_of(error: ValidationError) -> list[dict[str, str]]:
    path = list(error.absolute_path)
    if error.validator == "required":
        props = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        names = error.validator_value if isinstance(error.validator_value, list) else []
        # jsonschema reports each missing name separately, each with the whole list; callers dedupe.
        missing = [n for n in names if isinstance(error.instance, dict) and n not in error.instance]
        return [_error(_pointer([*path, n]), _title(props.get(n), n), "必填项未填写") for n in missing]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        props = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        extra = [k for k in error.instance if k not in props]
        return [_error(_pointer([*path, k]), k, "表单中没有该字段") for k in extra]
    pointer = _pointer(path)
    return [_error(pointer, _title(error.schema, str(path[-1]) if path else "申请表"), _message(error))]


@lru_cache(maxsize=256)
def _validator(schema_json: bytes) -> Draft202012Validator | None:
    # Items are few and their schemas change only on publication; compiled validators are reused.
    schema = orjson.loads(schema_json)
    try:
        Draft202012Validator.check_schema(schema, format_checker=_FORMAT_CHECKER)
    except SchemaError:
        # Published before schemas were checked: refuse applications rather than fail with a 500.
        return None
    return Draft202012Validator(schema, format_checker=_FORMAT_CHECKER)


def form_errors(schema: dict[str, Any], form: dict[str, Any]) -> list[dict[str, str]]:
    """List every way ``form`` fails the item's ``form_schema`` and the limits every form has.

    Required text fields must not be blank, as staff cannot act on a blank 工程名称.

    Args:
        schema: the item's ``form_schema`` (a valid Draft 2020-12 schema).
        form: the submitted form.

    Returns:
        Errors with ``pointer`` (JSON pointer into the form), ``field``, ``title`` and a zh-CN ``error``.
    """
    if problems := value_problems(form):
        return problems
    validator = _validator(orjson.dumps(schema, option=orjson.OPT_SORT_KEYS))
    if validator is None:
        return [_error("", "申请表", "该事项的申请表结构无效，暂不能受理网上申请，请联系实施机关")]
    errors: list[dict[str, str]] = []
    for error in sorted(validator.iter_errors(form), key=lambda e: list(map(str, e.absolute_path))):
        for found in _errors_of(error):
            if found not in errors:
                errors.append(found)
    props = schema.get("properties") or {}
    for name in schema.get("required") or []:
        value = form.get(name)
        pointer = _pointer([name])
        if isinstance(value, str) and not value.strip() and all(e["pointer"] != pointer for e in errors):
            errors.append(_error(_pointer([name]), _title(props.get(name), name), "必填项未填写"))
    return errors


def schema_errors(schema: dict[str, Any]) -> list[dict[str, str]]:
    """Check that an item's ``form_schema`` is a valid Draft 2020-12 schema of an object form.

    Args:
        schema: the schema as management is asked to store it.

    Returns:
        Errors with ``pointer`` (into the schema) and a zh-CN ``error``; empty when it is usable.
    """
    if found := json_text_problem(schema):
        return [_error(found[0], None, found[1])]
    raw = orjson.dumps(schema)
    if len(raw) > SCHEMA_MAX_BYTES:
        return [_error("", "form_schema", f"申请表结构过大，最多 {SCHEMA_MAX_BYTES} 字节")]
    return [dict(e) for e in _schema_errors(raw)]


@lru_cache(maxsize=256)
def _schema_errors(raw: bytes) -> tuple[dict[str, str], ...]:
    # A catalogue import checks the same few schemas (mostly the empty one) on every row, and the
    # meta-schema check costs ~0.5 ms: the verdict depends on the schema's text alone, so it is kept.
    schema = orjson.loads(raw)
    try:
        Draft202012Validator.check_schema(schema, format_checker=_FORMAT_CHECKER)
    except SchemaError as exc:
        pointer = _pointer(exc.absolute_path)
        return (_error(pointer, pointer or "form_schema", f"不是有效的 JSON Schema：{exc.message[:200]}"),)
    if schema and schema.get("type", "object") != "object":
        return (_error("/type", "type", "申请表结构的顶层必须是 object"),)
    return ()
