"""Queries of the item scope (事项实施主体)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.dialects.postgresql import insert

from yiwang_common.db import utcnow
from yiwang_common.db.repository import RepositoryBase
from yiwang_datasharing.access import ReadScope
from yiwang_datasharing.item.models import ItemScope


class ItemScopeRepository(RepositoryBase[ItemScope]):
    """Item scope rows: which unit implements an item, in which region."""

    model = ItemScope

    async def upsert(
        self,
        *,
        item_code: str,
        org_code: str,
        org_name: str,
        region_code: str,
        version: int,
    ) -> None:
        """Record an item version's implementing unit; an older version never overwrites a newer one."""
        stmt = insert(ItemScope).values(
            item_code=item_code,
            org_code=org_code,
            org_name=org_name,
            region_code=region_code,
            version=version,
            updated_at=utcnow(),
        )
        ex = stmt.excluded
        await self.execute(
            stmt.on_conflict_do_update(
                index_elements=[ItemScope.item_code],
                set_={
                    "org_code": ex.org_code,
                    "org_name": ex.org_name,
                    "region_code": ex.region_code,
                    "version": ex.version,
                    "updated_at": ex.updated_at,
                },
                where=ItemScope.version <= ex.version,
            )
        )

    @staticmethod
    def items_in_scope(scope: ReadScope) -> Select[str] | None:
        """The item codes whose records staff with ``scope`` may read, or None for none at all.

        A unit's items in the region (handling staff), or every item of the region (supervisors).

        A subquery for other repositories' conditions, so it needs no session.
        """
        conditions: list[ColumnElement[bool]] = []
        if scope.org_code is not None:
            conditions.append(ItemScope.org_code == scope.org_code)
        if scope.region_prefix is not None:
            conditions.append(ItemScope.region_code.startswith(scope.region_prefix, autoescape=True))
        if not conditions:
            return None
        return select(ItemScope.item_code).where(and_(*conditions))
