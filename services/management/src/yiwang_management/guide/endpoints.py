"""Public guide endpoints: ``/catalogue/items/{item_code}/guide`` as JSON, ``.html`` and ``.pdf``.

Guides are public (六公开), so there is no authentication. A published version never changes,
so ETag and Last-Modified come from the version and a matching ``If-None-Match`` gets a 304.
"""

from __future__ import annotations

from email.utils import format_datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.db import get_session
from yiwang_common.http import problem_responses
from yiwang_management.config import Settings
from yiwang_management.guide import rendering, service
from yiwang_management.guide.errors import GuideFontMissing, GuideNotFound
from yiwang_management.guide.schemas import Guide

router = APIRouter(prefix="/catalogue/items", tags=["catalogue"])

Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
ItemCodePath = Annotated[
    str, Path(min_length=1, max_length=36, pattern=r"^[0-9A-Z]+$", description="实施编码")
]

_CACHE_HEADERS: dict[str, Any] = {
    "ETag": {"description": "实施编码与版本", "schema": {"type": "string"}},
    "Last-Modified": {"description": "版本发布时间", "schema": {"type": "string"}},
}


def _validators(guide: Guide, kind: str) -> dict[str, str]:
    return {
        "ETag": f'"{guide.item_code}-v{guide.version}-{kind}"',
        "Last-Modified": format_datetime(guide.published_at, usegmt=True),
        "Cache-Control": "public, max-age=300",
    }


def _not_modified(request: Request, headers: dict[str, str]) -> Response | None:
    tags = {t.strip() for t in request.headers.get("if-none-match", "").split(",")}
    if headers["ETag"] in tags or "*" in tags:
        return Response(status_code=304, headers=headers)
    return None


@router.get(
    "/{item_code}/guide",
    summary="办事指南 Service guide (JSON)",
    response_model=Guide,
    responses={200: {"headers": _CACHE_HEADERS}, **problem_responses(GuideNotFound)},
)
async def guide_json(item_code: ItemCodePath, request: Request, session: Session) -> Response:
    """The guide of the published version: every element the data has, and the materials checklist."""
    guide = await service.get_guide(session, item_code)
    headers = _validators(guide, "json")
    if cached := _not_modified(request, headers):
        return cached
    return Response(guide.model_dump_json(), media_type="application/json", headers=headers)


@router.get(
    "/{item_code}/guide.html",
    summary="办事指南页面 Service guide (HTML, printable)",
    response_class=HTMLResponse,
    responses={200: {"headers": _CACHE_HEADERS}, **problem_responses(GuideNotFound)},
)
async def guide_html(item_code: ItemCodePath, request: Request, session: Session) -> Response:
    """The same guide as a zh-CN page with print CSS."""
    guide = await service.get_guide(session, item_code)
    headers = _validators(guide, "html")
    if cached := _not_modified(request, headers):
        return cached
    return HTMLResponse(rendering.render_html(guide), headers=headers)


@router.get(
    "/{item_code}/guide.pdf",
    summary="办事指南 PDF Printable service guide",
    response_class=Response,
    responses={
        200: {
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            "description": "A4 PDF, 中文字体子集内嵌, with the materials checklist",
            "headers": _CACHE_HEADERS,
        },
        **problem_responses(GuideNotFound, GuideFontMissing),
    },
)
async def guide_pdf(item_code: ItemCodePath, request: Request, session: Session) -> Response:
    """The same guide as a printable PDF with the CJK font subset embedded."""
    guide = await service.get_guide(session, item_code)
    headers = _validators(guide, "pdf")
    if cached := _not_modified(request, headers):
        return cached
    settings: Settings = request.app.state.settings
    font = rendering.find_font(settings.guide_font_path)
    pdf = rendering.cached_pdf(guide.model_dump_json(), font)
    filename = f"{guide.item_code}-v{guide.version}.pdf"
    headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return Response(pdf, media_type="application/pdf", headers=headers)
