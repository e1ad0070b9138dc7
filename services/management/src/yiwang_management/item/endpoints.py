"""REST surface of the item catalogue: public reads, admin publishing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import ROLE_ADMIN, Principal, require_role
from yiwang_common.db import get_session
from yiwang_common.http import Forbidden, Unauthorized, problem_responses
from yiwang_common.http.pagination import ListResource, PageQuery
from yiwang_common.text import Text
from yiwang_management.catalogue.demo import record_legacy_version
from yiwang_management.item import service as item_service
from yiwang_management.item.errors import ItemNotFound, ItemVersionConflict
from yiwang_management.item.schemas import ItemContent, ItemCreate, ItemSchema, ItemSummary

router = APIRouter(prefix="/items", tags=["items"])

Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
ItemCode = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z]+$", description="实施编码")
]


@router.get(
    "", summary="事项列表 List items", response_model=ListResource[ItemSummary], responses=problem_responses()
)
async def list_items(
    session: Session,
    pages: PageQuery,
    # Text refuses NUL and control characters, which PostgreSQL cannot take in a LIKE pattern.
    q: Annotated[Text | None, Query(max_length=100, description="事项名称包含的文字")] = None,
) -> ListResource[ItemSummary]:
    """事项目录 Items in force, by 实施编码, optionally filtered by name."""
    items, total = await item_service.list_items(session, q=q, offset=pages.offset, limit=pages.limit)
    return pages.wrap([ItemSummary.from_item(i) for i in items], total)


@router.get(
    "/{item_code}",
    summary="事项详情 Get an item",
    response_model=ItemSchema,
    responses=problem_responses(ItemNotFound),
)
async def get_item(item_code: ItemCode, session: Session) -> ItemSchema:
    """办事指南 One item with its whole service guide."""
    return ItemSchema.from_item(await item_service.get_item(session, item_code))


@router.put(
    "/{item_code}",
    summary="发布事项版本 Publish an item version",
    response_model=ItemSchema,
    responses=problem_responses(Unauthorized, Forbidden, ItemVersionConflict),
)
async def put_item(
    item_code: ItemCode,
    body: ItemContent,
    request: Request,
    session: Session,
    admin: Annotated[Principal, require_role(ROLE_ADMIN)],
) -> ItemSchema:
    """发布 Put a version of an item in force; repeating the version in force changes nothing.

    The version is also kept as a published 实施清单 version, so the item has its guide."""
    item_create = ItemCreate.model_validate(body.model_dump() | {"item_code": item_code})
    item, published = await item_service.publish_item(
        session, item_create, source=request.app.state.runtime.source
    )
    if published:
        await record_legacy_version(session, item_create, admin)
    return ItemSchema.from_item(item)
