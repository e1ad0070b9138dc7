"""分页 Pagination: ``?page=&limit=`` in, ``{"items", "pagination"}`` out (house style §9.7)."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field

T = TypeVar("T")


class Pagination(BaseModel):
    """分页信息."""

    total_count: int = Field(examples=[42])
    max_page: int = Field(examples=[3])


class ListResource(BaseModel, Generic[T]):
    """A page of results."""

    items: list[T]
    pagination: Pagination


class PageParams(BaseModel):
    """Requested page."""

    page: int
    limit: int

    def wrap(self, items: list[T], total: int) -> ListResource[T]:
        max_page = (total + self.limit - 1) // self.limit
        return ListResource[T](items=items, pagination=Pagination(total_count=total, max_page=max_page))


def _page_params(
    page: Annotated[int, Query(ge=1, le=100_000, description="页码, from 1")] = 1,
    limit: Annotated[int, Query(ge=1, le=100, description="每页条数")] = 20,
) -> PageParams:
    return PageParams(page=page, limit=limit)


Page = Annotated[PageParams, Depends(_page_params)]
