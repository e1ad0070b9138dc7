"""Routes: ``GET /items`` and ``GET /items/{item_code}`` (public)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from yiwang_common.http import problem_responses
from yiwang_common.http.pagination import ListResource, PageQuery
from yiwang_gateway.catalogue.errors import ItemNotFound
from yiwang_gateway.catalogue.schemas import ItemDetail, ItemSummary
from yiwang_gateway.catalogue.service import catalogue_service
from yiwang_gateway.dependencies import GUARDS, SessionDep

router = APIRouter(prefix="/items", tags=["catalogue"], dependencies=GUARDS)


@router.get(
    "",
    summary="事项目录 List published items",
    response_model=ListResource[ItemSummary],
    responses=problem_responses(),
)
async def list_items(
    session: SessionDep,
    page: PageQuery,
    q: Annotated[str | None, Query(max_length=100, description="事项名称关键字")] = None,
) -> ListResource[ItemSummary]:
    """Search the published items by name."""
    return await catalogue_service.search(session, q=q, page=page)


@router.get(
    "/{item_code}",
    summary="办事指南 Get an item's guide",
    response_model=ItemDetail,
    responses=problem_responses(ItemNotFound),
)
async def get_item(item_code: Annotated[str, Path(max_length=64)], session: SessionDep) -> ItemDetail:
    """Return one published item with its 办事指南."""
    return await catalogue_service.detail(session, item_code=item_code)
