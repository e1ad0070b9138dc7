"""Problems of the catalogue domain."""

from __future__ import annotations

from yiwang_common.http.problems import NotFound


class ItemNotFound(NotFound):
    """No published item with that 实施编码."""

    code = "item_not_found"
    title = "事项不存在"
