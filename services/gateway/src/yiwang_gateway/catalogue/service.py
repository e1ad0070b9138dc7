"""Business rules of the catalogue copy."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.contracts.management import ItemPublished, ItemWithdrawn
from yiwang_common.db import utcnow
from yiwang_common.http.pagination import ListResource, PageParams
from yiwang_gateway.catalogue.errors import ItemNotFound
from yiwang_gateway.catalogue.models import CatalogueItem
from yiwang_gateway.catalogue.repository import CatalogueRepository
from yiwang_gateway.catalogue.schemas import ItemDetail, ItemSummary

#: ItemPublished's classification fields, kept together as the item's facets.
FACETS = {
    "item_type_code",
    "exercise_level",
    "exercise_level_name",
    "region_name",
    "service_object_codes",
    "themes",
    "theme_codes",
    "handling_forms",
    "online",
    "fee_charged",
    "cross_region_scope",
    "visits",
}


def _summary_fields(item: CatalogueItem) -> dict[str, object]:
    return {
        "item_code": item.item_code,
        "name": item.name,
        "item_type": item.item_type,
        "version": item.version,
        "org": item.org,
        "promised_limit_days": item.limits.get("promised_limit_days"),
    }


class CatalogueService:
    """事项目录 use cases."""

    async def get(self, session: AsyncSession, *, item_code: str) -> CatalogueItem:
        item = await CatalogueRepository.from_session(session).get(item_code)
        if item is None:
            raise ItemNotFound(f"事项 {item_code} 不存在或未发布")
        return item

    async def for_application(self, session: AsyncSession, *, item_code: str) -> Any:
        """The item's code, name, form schema and materials (a row, not the whole item)."""
        item = await CatalogueRepository.from_session(session).for_application(item_code)
        if item is None:
            raise ItemNotFound(f"事项 {item_code} 不存在或未发布")
        return item

    async def detail(self, session: AsyncSession, *, item_code: str) -> ItemDetail:
        item = await self.get(session, item_code=item_code)
        return ItemDetail.model_validate(
            _summary_fields(item)
            | {
                "basic_code": item.basic_code,
                "region_code": item.region_code,
                "service_object": item.service_object,
                "scope": item.scope,
                "legal_basis": item.legal_basis,
                "conditions": item.conditions,
                "materials": item.materials,
                "limits": item.limits,
                "form_schema": item.form_schema,
                "guide": item.guide,
                "published_at": item.published_at,
            }
        )

    async def search(
        self, session: AsyncSession, *, q: str | None, page: PageParams
    ) -> ListResource[ItemSummary]:
        items, total = await CatalogueRepository.from_session(session).search(
            q=q, page=page.page, limit=page.limit
        )
        return page.wrap([ItemSummary.model_validate(_summary_fields(i)) for i in items], total)

    async def apply_published(self, session: AsyncSession, *, data: ItemPublished) -> None:
        """Upsert the item; an older or equal version than the one held changes nothing."""
        await CatalogueRepository.from_session(session).upsert_newer(
            {
                "item_code": data.item_code,
                "basic_code": data.basic_code,
                "version": data.version,
                "name": data.name,
                "item_type": data.item_type,
                "org": data.implementing_org.model_dump(mode="json"),
                "region_code": data.region_code,
                "service_object": list(data.service_object),
                "scope": data.scope,
                "legal_basis": list(data.legal_basis),
                "conditions": list(data.conditions),
                "materials": [m.model_dump(mode="json") for m in data.materials],
                "limits": {
                    "statutory_limit_days": data.statutory_limit_days,
                    "promised_limit_days": data.promised_limit_days,
                    "case_type": data.case_type,
                    "fee": data.fee,
                },
                "form_schema": data.form_schema,
                "guide": data.guide,
                "facets": data.model_dump(mode="json", include=FACETS),
                "published_at": data.published_at,
                "updated_at": utcnow(),
            },
        )

    async def apply_withdrawn(self, session: AsyncSession, *, data: ItemWithdrawn) -> bool:
        """The version held was withdrawn: the item leaves the portal (a newer version stays).

        Returns:
            Whether the item was removed.
        """
        return await CatalogueRepository.from_session(session).delete_up_to(data.item_code, data.version)


catalogue_service = CatalogueService()
