"""Page parameters and the list envelope every list endpoint returns (分页)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field

T = TypeVar("T")


class Pagination(BaseModel):
    """分页信息 Page information."""

    total_count: int = Field(ge=0, examples=[42])
    max_page: int = Field(ge=0, examples=[3])


class ListResource(BaseModel, Generic[T]):
    """列表 A page of results."""

    items: list[T]
    pagination: Pagination


@dataclass(frozen=True)
class PageParams:
    """Requested page (1-based) and page size."""

    page: int
    limit: int

    @property
    def offset(self) -> int:
        """Rows to skip."""
        return (self.page - 1) * self.limit


def page_params(
    page: Annotated[int, Query(ge=1, le=100_000, description="页码, from 1")] = 1,
    limit: Annotated[int, Query(ge=1, le=100, description="每页条数")] = 20,
) -> PageParams:
    """FastAPI dependency: the page the client asks for."""
    return PageParams(page=page, limit=limit)


PageQuery = Annotated[PageParams, Depends(page_params)]


def list_resource(items: list[T], total: int, params: PageParams) -> ListResource[T]:
    """Wrap one page of items with its pagination block."""
    return ListResource[T](
        items=items,
        pagination=Pagination(total_count=total, max_page=math.ceil(total / params.limit)),
    )
