"""The application form generated from an item's ``form_schema`` (JSON Schema 2020-12), ADR 0115.

The renderer knows a subset: a top-level ``object`` whose ``properties`` are ``string`` (with
``format: date`` → a date input, ``enum`` → a choice), ``number``, ``integer`` or ``boolean``, with
``title``, ``description``, ``required``, ``minLength``/``maxLength``, ``pattern``, ``minimum``/
``maximum`` and their exclusive forms. Browsers get the matching HTML attributes as a hint only;
the rule is the server's: the posted strings are coerced to the property's type and the whole form
is checked by ``yiwang_common.forms.form_errors`` (the ``jsonschema`` package, every keyword), the
same check ``POST /applications`` makes. A property outside the subset (an object, an array, a
``oneOf`` …) is shown as a JSON text field, so no schema is unrenderable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import orjson

#: Prefix of the form fields in the page's POST (``f.工程名称``), apart from the page's own fields.
FIELD_PREFIX = "f."


@dataclass
class FieldView:
    """One control of the generated form."""

    name: str
    label: str
    widget: str  # text, number, date, select, checkbox, json
    required: bool
    value: str = ""
    checked: bool = False
    description: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)
    error: str = ""
    html_id: str = ""


def _kind(prop: dict[str, Any]) -> str:
    kind = prop.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if len(kinds) == 1 else None
    if "enum" in prop and all(
        isinstance(v, str | int | float) and not isinstance(v, bool) for v in prop["enum"]
    ):
        return "select"
    if kind == "string":
        return "date" if prop.get("format") == "date" else "text"
    if kind == "number":
        return "number"
    if kind == "integer":
        return "integer"
    if kind == "boolean":
        return "checkbox"
    return "json"


def _num(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _attrs(prop: dict[str, Any], widget: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    if widget == "text":
        if isinstance(prop.get("maxLength"), int):
            attrs["maxlength"] = str(prop["maxLength"])
        if isinstance(prop.get("minLength"), int):
            attrs["minlength"] = str(prop["minLength"])
        if isinstance(prop.get("pattern"), str):
            attrs["pattern"] = prop["pattern"]
    if widget in ("number", "integer"):
        for key, attr in (("minimum", "min"), ("maximum", "max")):
            if isinstance(prop.get(key), int | float) and not isinstance(prop.get(key), bool):
                attrs[attr] = _num(prop[key])
        attrs["step"] = "1" if widget == "integer" else "any"
    return attrs


def _shown(value: Any, widget: str) -> str:
    if value is None:
        return ""
    if widget == "json":
        return orjson.dumps(value).decode()
    if isinstance(value, float | int) and not isinstance(value, bool):
        return _num(value)
    return str(value)


def ordered(schema: dict[str, Any]) -> list[tuple[str, Any]]:
    """The properties in the order the form shows them.

    Objects carry no order once stored (PostgreSQL's jsonb sorts keys), arrays do: an ``x-order``
    list of names wins, then the ``required`` list's order, then the remaining properties.
    """
    props: dict[str, Any] = schema.get("properties") or {}
    order = [n for n in schema.get("x-order") or [] if isinstance(n, str)]
    order += [n for n in schema.get("required") or [] if isinstance(n, str)]
    names = [n for n in dict.fromkeys(order) if n in props]
    names += [n for n in props if n not in names]
    return [(n, props[n]) for n in names]


def fields_of(
    schema: dict[str, Any], values: dict[str, Any], errors: dict[str, str] | None = None
) -> list[FieldView]:
    """The controls of the form, in the schema's order, filled with ``values`` and their errors."""
    errors = errors or {}
    required = set(schema.get("required") or [])
    views = []
    for i, (name, prop) in enumerate(ordered(schema)):
        prop = prop if isinstance(prop, dict) else {}
        widget = _kind(prop)
        value = values.get(name)
        view = FieldView(
            name=name,
            label=str(prop.get("title") or name),
            widget="number" if widget == "integer" else widget,
            required=name in required,
            value=_shown(value, widget),
            checked=value is True,
            description=str(prop.get("description") or ""),
            attrs=_attrs(prop, widget),
            error=errors.get(name, ""),
            html_id=f"field-{i}",
        )
        if widget == "select":
            view.options = [(_shown(v, "text"), _shown(v, "text")) for v in prop["enum"]]
        views.append(view)
    return views


def coerce(schema: dict[str, Any], posted: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Turn the page's strings into the form's JSON values; an empty field is left out.

    Returns the form and the fields whose text is not a value of their type at all (``"abc"`` for a
    number), with a zh-CN message; everything else is for the schema check to judge.
    """
    form: dict[str, Any] = {}
    bad: dict[str, str] = {}
    for name, prop in (schema.get("properties") or {}).items():
        prop = prop if isinstance(prop, dict) else {}
        widget = _kind(prop)
        raw = posted.get(name)
        if widget == "checkbox":
            if raw is not None:
                form[name] = raw in ("true", "on", "1")
            continue
        if raw is None or raw.strip() == "":
            continue
        text = raw.strip()
        if widget in ("number", "integer"):
            try:
                number = float(text)
            except ValueError:
                bad[name] = "请填写数字"
                continue
            if not math.isfinite(number):
                bad[name] = "请填写数字"
            elif widget == "integer" or (number.is_integer() and "." not in text and "e" not in text.lower()):
                if not number.is_integer():
                    bad[name] = "请填写整数"
                else:
                    form[name] = int(number)
            else:
                form[name] = number
        elif widget == "select":
            match = [v for v in prop["enum"] if _shown(v, "text") == text]
            if match:
                form[name] = match[0]
            else:
                bad[name] = "请从列表中选择"
        elif widget == "json":
            try:
                form[name] = orjson.loads(text)
            except orjson.JSONDecodeError:
                bad[name] = "格式错误"
        else:
            form[name] = text
    return form, bad


def errors_by_field(errors: list[dict[str, str]]) -> tuple[dict[str, str], list[str]]:
    """Split ``form_errors``' list into messages per field and those about the form as a whole."""
    per_field: dict[str, str] = {}
    general: list[str] = []
    for e in errors:
        if e.get("field"):
            per_field.setdefault(e["field"], e["error"])
        else:
            general.append(e["error"])
    return per_field, general
