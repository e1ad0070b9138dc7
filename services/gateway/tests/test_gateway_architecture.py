"""Where the gateway's SQL lives."""

from __future__ import annotations

from pathlib import Path

import yiwang_gateway
from yiwang_common.testing.architecture import find_queries_outside_repositories

PACKAGE = Path(yiwang_gateway.__file__).parent


def test_queries_live_only_in_repositories() -> None:
    assert find_queries_outside_repositories(PACKAGE) == []
