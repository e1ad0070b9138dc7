"""Problems the item catalogue reports."""

from __future__ import annotations

from yiwang_common.http import Conflict, NotFound


class ItemNotFound(NotFound):
    """No item with that 实施编码."""

    code = "item_not_found"
    title = "事项不存在"


class ItemVersionConflict(Conflict):
    """A version at or above the one given is already in force."""

    code = "item_version_conflict"
    title = "事项版本冲突"
