"""分页 Pagination: ``?page=&limit=`` in, ``{"items": [...], "pagination": {...}}`` out.

One shape for every list endpoint of every service (house style §9.7).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field

T = TypeVar("T")


class Pagination(BaseModel):
    """分页信息 Where a page sits in the whole list."""

    total_count: int = Field(ge=0, examples=[42])
    max_page: int = Field(ge=0, examples=[3])


class ListResource(BaseModel, Generic[T]):
    """列表 A page of results."""

    items: list[T]
    pagination: Pagination


@dataclass(frozen=True)
class PageParams:
    """The page a client asked for (1-based) and its size."""

    page: int
    limit: int

    @property
    def offset(self) -> int:
        """Rows to skip before this page."""
        return (self.page - 1) * self.limit

    def pagination(self, total: int) -> Pagination:
        """Describe a list of ``total`` rows cut into pages of this size.

        Args:
            total: rows in the whole list.

        Returns:
            The pagination block.
        """
        return Pagination(total_count=total, max_page=-(-total // self.limit))

    def wrap(self, items: list[T], total: int) -> ListResource[T]:
        """Wrap one page of items with its pagination block.

        Args:
            items: the rows of this page.
            total: rows in the whole list.

        Returns:
            The list envelope.
        """
        return ListResource[T](items=items, pagination=self.pagination(total))


async def page_params(
    page: Annotated[int, Query(ge=1, le=100_000, description="页码, from 1")] = 1,
    limit: Annotated[int, Query(ge=1, le=100, description="每页条数")] = 20,
) -> PageParams:
    """FastAPI dependency: the page the client asks for.

    Args:
        page: page number, from 1.
        limit: rows per page, at most 100.

    Returns:
        The requested page.
    """
    return PageParams(page=page, limit=limit)


PageQuery = Annotated[PageParams, Depends(page_params)]
