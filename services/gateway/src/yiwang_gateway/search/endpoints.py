"""Route: ``GET /catalogue/search`` (public)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from yiwang_common.http import problem_responses
from yiwang_gateway.dependencies import GUARDS
from yiwang_gateway.search.engine import Facet
from yiwang_gateway.search.errors import BadQuery, SearchNotReady
from yiwang_gateway.search.schemas import SearchResponse
from yiwang_gateway.search.service import search_service

router = APIRouter(prefix="/catalogue", tags=["search"], dependencies=GUARDS)

ObjectParam = Literal["自然人", "法人", "natural_person", "legal_person"]
LevelParam = Literal["province", "city", "county", "省级", "市级", "县级"]


@router.get(
    "/search",
    summary="事项检索 Search the catalogue (我要查 / 我要办)",
    response_model=SearchResponse,
    responses=problem_responses(BadQuery, SearchNotReady),
    openapi_extra={
        "x-examples": [
            "?q=身份证丢了怎么办",
            "?q=开饭店要办什么证&region=530428",
            "?q=sgxk",
            "?q=shenfenzheng&object=自然人",
            "?q=公积金&level=city&region=530400&region_scope=self",
        ]
    },
)
async def search_catalogue(
    q: Annotated[
        str,
        Query(
            max_length=100,
            description="检索词: 事项名称、简称、口语问题、拼音或拼音首字母 (≤ 100 字符, 不得含控制字符)",
            examples=["身份证丢了怎么办"],
        ),
    ] = "",
    theme: Annotated[
        list[str], Query(max_length=10, description="主题分类, 可重复 (或)", examples=[["证件办理"]])
    ] = [],  # noqa: B006
    department: Annotated[
        list[str],
        Query(
            max_length=10, description="实施主体名称或统一社会信用代码, 可重复", examples=[["元江县公安局"]]
        ),
    ] = [],  # noqa: B006
    level: Annotated[list[LevelParam], Query(max_length=3, description="行使层级, 可重复")] = [],  # noqa: B006
    object: Annotated[list[ObjectParam], Query(max_length=2, description="服务对象: 自然人 / 法人")] = [],  # noqa: B006
    region: Annotated[
        str | None,
        Query(pattern=r"^[1-9]\d{5}$", description="行政区划代码 (GB/T 2260)", examples=["530428"]),
    ] = None,
    region_scope: Annotated[
        Literal["up", "self", "down"],
        Query(
            description=(
                "up (默认): 该地区及其上级 (县 → 市 → 省, 居民可办的全部事项); "
                "self: 仅该地区; down: 该地区及其下辖地区"
            )
        ),
    ] = "up",
    event: Annotated[
        list[str], Query(max_length=10, description="人生事件, 可重复", examples=[["结婚"]])
    ] = [],  # noqa: B006
    facet: Annotated[
        list[Facet],
        Query(max_length=5, description="分面统计: object, theme, department, level, event, 可重复"),
    ] = [],  # noqa: B006
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    offset: Annotated[int, Query(ge=0, le=1000)] = 0,
) -> Response:
    """Ranked search over the published items: words, synonyms, colloquial questions, pinyin,
    initials, typos and partial names; filters combine (AND across parameters, OR within one)."""
    body = search_service.search_json(
        q=q,
        themes=theme,
        departments=department,
        levels=list(level),
        objects=list(object),
        events=event,
        region=region,
        region_scope=region_scope,
        limit=limit,
        offset=offset,
        facets=facet,
    )
    # Built from values validated when the item was indexed: serialised once, no model per request.
    return Response(body, media_type="application/json")
