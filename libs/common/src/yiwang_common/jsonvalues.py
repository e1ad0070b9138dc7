"""Free-form JSON objects a client may send (申请表, 办事指南), limited to what every layer can carry.

Python and PostgreSQL's jsonb hold integers of any size, but orjson (the envelope, the outbox,
the database driver's encoder) stops at 64 bits: an over-long integer accepted at the edge
would become a 500, or an event nobody can publish. Such values are refused up front (422).
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
#: Deepest nesting accepted; forms and guides are a few levels deep.
MAX_DEPTH = 32


def check_json_value(value: Any, depth: int = 0) -> Any:
    """Return ``value`` if every number in it fits 64 bits and is finite, and it is not too deep.

    Args:
        value: a decoded JSON value.
        depth: how deep ``value`` already is.

    Returns:
        ``value`` unchanged.

    Raises:
        ValueError: naming the first offending value.
    """
    if depth > MAX_DEPTH:
        raise ValueError(f"嵌套层级超过 {MAX_DEPTH} (nested deeper than {MAX_DEPTH})")
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        raise ValueError("整数超出 64 位范围 (integer outside the 64-bit range)")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("数值必须是有限数 (number must be finite)")
    if isinstance(value, dict):
        for item in value.values():
            check_json_value(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check_json_value(item, depth + 1)
    return value


#: A JSON object from a client, checked by :func:`check_json_value`.
JsonObject = Annotated[dict[str, Any], AfterValidator(check_json_value)]
