"""Queries of the catalogue (目录清单 entries and 实施清单 versions)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from yiwang_common.db.repository import RepositoryBase
from yiwang_management.catalogue.models import (
    OPEN_STATES,
    PUBLISHED,
    CatalogueEntry,
    CatalogueImport,
    ItemVersion,
)
from yiwang_management.item.models import Item


def _triple(row: Any) -> tuple[str, int, str]:
    code, version, org = tuple(row)
    return str(code), int(version), str(org)


class CatalogueEntryRepository(RepositoryBase[CatalogueEntry]):
    """目录清单 entries."""

    model = CatalogueEntry

    async def get_many(self, basic_codes: Sequence[str]) -> dict[str, CatalogueEntry]:
        """The entries of these basic codes that exist (one query per 10,000 codes)."""
        found: dict[str, CatalogueEntry] = {}
        for start in range(0, len(basic_codes), 10_000):
            chunk = basic_codes[start : start + 10_000]
            statement = self.get_base_statement().where(CatalogueEntry.basic_code.in_(chunk))
            found |= {e.basic_code: e for e in await self.get_all(statement)}
        return found

    async def list_all(self) -> Sequence[CatalogueEntry]:
        """Every entry, by 基本编码."""
        return await self.get_all(self.get_base_statement().order_by(CatalogueEntry.basic_code))


class ItemVersionRepository(RepositoryBase[ItemVersion]):
    """Versions of implementation entries; a version is read locked when it is about to change."""

    model = ItemVersion

    async def get(self, item_code: str, version: int, *, for_update: bool = False) -> ItemVersion | None:
        """One version."""
        statement = self.get_base_statement().where(
            ItemVersion.item_code == item_code, ItemVersion.version == version
        )
        if for_update:
            statement = statement.with_for_update()
        return await self.get_one_or_none(statement)

    async def history(self, item_code: str) -> Sequence[ItemVersion]:
        """Every version of an item, oldest first."""
        return await self.get_all(
            self.get_base_statement().where(ItemVersion.item_code == item_code).order_by(ItemVersion.version)
        )

    async def open_version(self, item_code: str) -> ItemVersion | None:
        """The version in preparation (draft, submitted or approved), if any."""
        return await self.get_one_or_none(
            self.get_base_statement().where(
                ItemVersion.item_code == item_code, ItemVersion.status.in_(OPEN_STATES)
            )
        )

    async def published(self, item_code: str, *, for_update: bool = False) -> ItemVersion | None:
        """The version in force, if any."""
        statement = self.get_base_statement().where(
            ItemVersion.item_code == item_code, ItemVersion.status == PUBLISHED
        )
        if for_update:
            statement = statement.with_for_update()
        return await self.get_one_or_none(statement)

    async def next_version(self, item_code: str) -> int:
        """The number a new version gets: above every version row and above the item in force.

        The item row counts too because items published before versions existed (or through
        the direct admin load) have a version but no ``item_version`` row.
        """
        highest_version = select(func.coalesce(func.max(ItemVersion.version), 0)).where(
            ItemVersion.item_code == item_code
        )
        in_force = select(func.coalesce(func.max(Item.version), 0)).where(Item.item_code == item_code)
        versions = [(await self.session.execute(q)).scalar_one() for q in (highest_version, in_force)]
        return max(int(v) for v in versions) + 1

    async def list_page(
        self, *, org_code: str | None, status: str | None, page: int, limit: int
    ) -> tuple[Sequence[ItemVersion], int]:
        """One page of versions, newest activity first, optionally of one body or state."""
        statement = self.get_base_statement()
        if org_code is not None:
            statement = statement.where(ItemVersion.org_code == org_code)
        if status is not None:
            statement = statement.where(ItemVersion.status == status)
        rows, total = await self.paginate(
            statement.order_by(ItemVersion.item_code, ItemVersion.version.desc()), page=page, limit=limit
        )
        return [row[0] for row in rows], total

    async def current_for(self, item_codes: Sequence[str]) -> Sequence[ItemVersion]:
        """The open and published versions of these items (what an import compares rows with)."""
        found: list[ItemVersion] = []
        for start in range(0, len(item_codes), 10_000):
            chunk = item_codes[start : start + 10_000]
            statement = self.get_base_statement().where(
                ItemVersion.item_code.in_(chunk), ItemVersion.status.in_((*OPEN_STATES, PUBLISHED))
            )
            found += await self.get_all(statement)
        return found

    async def latest_for(self, item_codes: Sequence[str]) -> dict[str, tuple[int, str]]:
        """Per item: the highest version number (rows or the item in force) and the owner's code."""
        latest: dict[str, tuple[int, str]] = {}
        for start in range(0, len(item_codes), 10_000):
            chunk = item_codes[start : start + 10_000]
            # Every version of an item has the same owner (create_version refuses another body).
            versions = (
                select(ItemVersion.item_code, func.max(ItemVersion.version), func.min(ItemVersion.org_code))
                .where(ItemVersion.item_code.in_(chunk))
                .group_by(ItemVersion.item_code)
            )
            for row in await self.rows(versions):
                code, version, org = _triple(row)
                latest[code] = (version, org)
            in_force = select(Item.item_code, Item.version, Item.org_code).where(Item.item_code.in_(chunk))
            for row in await self.rows(in_force):
                code, version, org = _triple(row)
                if version > latest.get(code, (0, ""))[0]:
                    latest[code] = (version, org)
        return latest

    async def all_published(self) -> Sequence[ItemVersion]:
        """The versions in force, by 实施编码 (the export)."""
        return await self.get_all(
            self.get_base_statement().where(ItemVersion.status == PUBLISHED).order_by(ItemVersion.item_code)
        )


class CatalogueImportRepository(RepositoryBase[CatalogueImport]):
    """Import jobs."""

    model = CatalogueImport
