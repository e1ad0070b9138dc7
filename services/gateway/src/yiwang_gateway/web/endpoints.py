"""Pages: ``/`` home, ``/search`` results with filters, ``/items/{item_code}`` 办事指南 (public)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse
from starlette.responses import StreamingResponse

from yiwang_gateway.catalogue.elements import Level
from yiwang_gateway.dependencies import GUARDS, SessionDep
from yiwang_gateway.web.finder import find_items
from yiwang_gateway.web.guides import GuideClient
from yiwang_gateway.web.rendering import PageRoute, render
from yiwang_gateway.web.schemas import SearchFilters, ServiceObject
from yiwang_gateway.web.service import FORMS, guide_page, home_groups

router = APIRouter(tags=["pages"], dependencies=GUARDS, route_class=PageRoute, include_in_schema=False)

#: One repeatable filter value: short text, as on the API.
Choice = Annotated[list[str], Query(max_length=10)]


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    """首页: search box and the 个人 / 法人 entry points."""
    return render(request, "home.html", {"groups": await home_groups(), "q": ""})


@router.get("/search", response_class=HTMLResponse)
async def search(
    request: Request,
    q: Annotated[str, Query(max_length=100)] = "",
    department: Choice = [],  # noqa: B006
    level: Annotated[list[Level], Query(max_length=3)] = [],  # noqa: B006
    theme: Choice = [],  # noqa: B006
    object: Annotated[list[ServiceObject], Query(max_length=2)] = [],  # noqa: B006
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> HTMLResponse:
    """检索结果: the results and the filters; htmx asks for the results fragment only."""
    filters = SearchFilters(
        q=q.strip(),
        departments=tuple(d[:200] for d in department),
        levels=tuple(level),
        themes=tuple(t[:100] for t in theme),
        objects=tuple(object),
        page=page,
    )
    results = find_items(filters)
    fragment = (
        request.headers.get("HX-Request") == "true" and "HX-History-Restore-Request" not in request.headers
    )
    template = "_results.html" if fragment else "search.html"
    return render(request, template, {"filters": filters, "results": results, "q": filters.q})


@router.get("/items/{item_code}", response_class=HTMLResponse)
async def item_guide(
    request: Request, session: SessionDep, item_code: Annotated[str, Path(max_length=64)]
) -> HTMLResponse:
    """办事指南: one published item with its 'what do I need' checklist."""
    guide = await guide_page(session, item_code)
    return render(request, "guide.html", {"guide": guide, "forms": FORMS, "q": ""})


@router.get("/items/{item_code}/guide.pdf")
async def item_guide_pdf(
    request: Request, item_code: Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[0-9A-Z]+$")]
) -> StreamingResponse:
    """办事指南 PDF: rendered by management from the item data, streamed through unchanged."""
    guides: GuideClient = request.app.state.guides
    return await guides.pdf(item_code, request.headers.get("if-none-match"))
