"""Free-form JSON from clients: numbers every layer can carry, bounded depth."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from yiwang_common.jsonvalues import MAX_DEPTH, JsonObject


class Body(BaseModel):
    guide: JsonObject


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"x": value}
    return value


@pytest.mark.parametrize(
    "guide",
    [
        {"n": 2**63},
        {"n": -(2**63) - 1},
        {"a": [{"b": 10**30}]},
        {"f": float("nan")},
        {"f": float("inf")},
        nested(MAX_DEPTH + 2),
    ],
)
def test_refused(guide: Any) -> None:
    with pytest.raises(ValidationError):
        Body(guide=guide)


@pytest.mark.parametrize(
    "guide",
    [
        {"n": 2**63 - 1},
        {"n": -(2**63)},
        {"f": 1.5, "t": True, "s": "办理地点", "z": None},
        nested(MAX_DEPTH - 1),
    ],
)
def test_accepted(guide: Any) -> None:
    assert Body(guide=guide).guide == guide
