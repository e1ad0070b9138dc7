"""In-process copies of what registering a case needs of an item (read-mostly, so read once).

A copy is never trusted blindly: registration writes only if the item still has the version and
publication time the copy was taken from (see ``CaseRepository.take_sequence_for``), and
publishing a version drops the copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_management.item.models import Item
from yiwang_management.item.repository import ItemRepository


@dataclass(frozen=True, slots=True)
class ItemSnapshot:
    """The fields of an item a case copies, and the version they come from."""

    item_code: str
    name: str
    org_code: str
    org_name: str
    materials: list[dict[str, Any]]
    statutory_limit_days: int
    promised_limit_days: int
    version: int
    published_at: datetime
    #: 办件类型 (GB/T 39046 A.6) and the guide elements the intake rules read (ADR 0111).
    case_type: str = "2"
    guide: dict[str, Any] | None = None
    # 行政区划代码 of the implementing unit: the region of its cases under 统建 (ADR 0114).
    region_code: str = ""

    @classmethod
    def of(cls, item: Item) -> ItemSnapshot:
        """Copy an item row."""
        return cls(
            item_code=item.item_code,
            name=item.name,
            org_code=item.org_code,
            org_name=item.org_name,
            materials=list(item.materials),
            statutory_limit_days=item.statutory_limit_days,
            promised_limit_days=item.promised_limit_days,
            version=item.version,
            published_at=item.published_at,
            case_type=item.case_type,
            guide=dict(item.guide),
            region_code=item.region_code,
        )


_snapshots: dict[str, ItemSnapshot] = {}


def cached(item_code: str) -> ItemSnapshot | None:
    """The copy held for an item, if any."""
    return _snapshots.get(item_code)


async def load(session: AsyncSession, item_code: str) -> ItemSnapshot | None:
    """Read an item from the catalogue and keep a copy; None if it is not there."""
    item = await ItemRepository(session).get(item_code)
    if item is None:
        _snapshots.pop(item_code, None)
        return None
    snapshot = ItemSnapshot.of(item)
    _snapshots[item_code] = snapshot
    return snapshot


def forget(item_code: str) -> None:
    """Drop the copy of an item (a new version was published)."""
    _snapshots.pop(item_code, None)
