"""申请表 checks against the item's form schema: presence and simple JSON types only.

A full JSON Schema validator is deliberately not used; management and business re-check
whatever they depend on.
"""

from __future__ import annotations

import math
from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def _type_ok(value: Any, expected: Any) -> bool:
    names = expected if isinstance(expected, list) else [expected]
    for name in names:
        if name == "null" and value is None:
            return True
        kinds = _TYPES.get(name)
        if kinds is None:
            return True
        # bool is an int in Python but not a number in JSON.
        if isinstance(value, kinds) and not (isinstance(value, bool) and name in ("integer", "number")):
            return True
    return False


def form_errors(schema: dict[str, Any], form: dict[str, Any]) -> list[dict[str, str]]:
    """List what is wrong with ``form``: missing required fields, wrong types, unknown fields."""
    props: dict[str, Any] = schema.get("properties") or {}
    errors: list[dict[str, str]] = []
    for name in schema.get("required") or []:
        value = form.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            title = (props.get(name) or {}).get("title", name)
            errors.append({"field": name, "title": title, "error": "必填项未填写"})
    for name, value in form.items():
        spec = props.get(name)
        if spec is None:
            if schema.get("additionalProperties") is False:
                errors.append({"field": name, "title": name, "error": "表单中没有该字段"})
            continue
        if value is not None and "type" in spec and not _type_ok(value, spec["type"]):
            errors.append(
                {"field": name, "title": spec.get("title", name), "error": f"应为 {spec['type']} 类型"}
            )
    return errors


_MAX_DEPTH = 16
_INT64 = 2**63


def _value_problem(value: Any, depth: int) -> str | None:
    if depth > _MAX_DEPTH:
        return "嵌套层级过深"
    if isinstance(value, float) and not math.isfinite(value):
        return "数值必须是有限数"
    if isinstance(value, int) and not isinstance(value, bool) and not -_INT64 <= value < _INT64:
        return "整数超出范围"
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        if problem := _value_problem(child, depth + 1):
            return problem
    return None


def form_value_problem(form: dict[str, Any]) -> str | None:
    """Name what makes ``form`` unfit to store and publish (NaN, huge integers, deep nesting), if anything."""
    return _value_problem(form, 0)
