"""个人信息脱敏 Masking of personal data in lists, logs and events that do not need the full value.

One set of rules for every service (issue 8): a 居民身份证 number keeps its first 6 digits (the
region of issue) and its last 4; a mobile number keeps 3 + 4 (138****0001); a person's name keeps
its first character (张*, 欧阳** keeps 欧), and a unit's name is public as registered (a
统一社会信用代码 is public too, GB 32100). Masking never fails: a value too short to hide anything
is starred whole, ``None`` stays ``None``.
"""

from __future__ import annotations

MASK = "*"


def mask_middle(value: str | None, keep_head: int, keep_tail: int) -> str | None:
    """Star every character of ``value`` but the first ``keep_head`` and the last ``keep_tail``.

    Args:
        value: the text, or None.
        keep_head: characters shown at the start.
        keep_tail: characters shown at the end.

    Returns:
        The masked text; a value with nothing left to hide is starred whole, so that a short
        value never shows in full.
    """
    if value is None:
        return None
    if len(value) <= keep_head + keep_tail:
        return MASK * len(value)
    hidden = len(value) - keep_head - keep_tail
    return value[:keep_head] + MASK * hidden + (value[len(value) - keep_tail :] if keep_tail else "")


def mask_id_number(value: str | None) -> str | None:
    """A 居民身份证号码 as lists show it: 530428********1231 (first 6, last 4)."""
    return mask_middle(value, 6, 4)


def mask_mobile(value: str | None) -> str | None:
    """A mobile number as lists show it: 138****0001 (3 + 4)."""
    return mask_middle(value, 3, 4)


def mask_person_name(value: str | None) -> str | None:
    """A person's name with only its first character shown: 张* / 欧** (one star per hidden character)."""
    if value is None:
        return None
    if len(value) <= 1:
        return MASK * len(value)
    return value[0] + MASK * (len(value) - 1)


def mask_name(value: str | None, *, kind: str) -> str | None:
    """A principal's name: a person's partly hidden, a legal person's (单位名称) shown as registered.

    Args:
        value: the name.
        kind: ``natural_person`` or ``legal_person`` (any other kind is treated as a person).

    Returns:
        The name as lists, logs and events show it.
    """
    return value if kind == "legal_person" else mask_person_name(value)


def mask_identifier(value: str | None, *, id_type: str | None) -> str | None:
    """A 证件号码 by its 证件类型代码: 111 居民身份证 masked 6+4; 001 统一社会信用代码 shown (public).

    Args:
        value: the number.
        id_type: the 证件类型代码; any unknown type is masked as an id number.

    Returns:
        The number as lists, logs and events show it.
    """
    return value if id_type == "001" else mask_id_number(value)
