"""The list shape every service uses: ``{"items": [...], "pagination": {...}}``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query
from pydantic import BaseModel, Field


class Pagination(BaseModel):
    """Where a page sits in the whole list."""

    total_count: int = Field(ge=0, examples=[42])
    max_page: int = Field(ge=0, examples=[3])


@dataclass(frozen=True)
class Page:
    """The page a client asked for."""

    page: int
    limit: int

    @property
    def offset(self) -> int:
        """Rows to skip."""
        return (self.page - 1) * self.limit

    def pagination(self, total: int) -> Pagination:
        """Describe a list of ``total`` rows cut into pages of this size."""
        return Pagination(total_count=total, max_page=-(-total // self.limit))


def _page(
    page: Annotated[int, Query(ge=1, le=100_000, description="页码, from 1")] = 1,
    limit: Annotated[int, Query(ge=1, le=100, description="每页条数")] = 20,
) -> Page:
    return Page(page=page, limit=limit)


PageParams = Annotated[Page, Depends(_page)]
