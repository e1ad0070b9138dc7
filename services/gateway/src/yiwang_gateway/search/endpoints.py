"""Route: ``GET /catalogue/search`` (public)."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Annotated, Any, Literal, get_args
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from yiwang_common.http import problem_responses
from yiwang_gateway.dependencies import GUARDS
from yiwang_gateway.search.engine import Facet
from yiwang_gateway.search.errors import BadQuery, SearchNotReady
from yiwang_gateway.search.schemas import SearchResponse
from yiwang_gateway.search.service import search_service

ObjectParam = Literal["自然人", "法人", "natural_person", "legal_person"]
LevelParam = Literal["province", "city", "county", "省级", "市级", "县级"]
ScopeParam = Literal["up", "self", "down"]

#: Per list parameter: its keyword for the service, its most values, the values it takes (None: any).
_LISTS: dict[str, tuple[str, int, frozenset[str] | None]] = {
    "theme": ("themes", 10, None),
    "department": ("departments", 10, None),
    "level": ("levels", 3, frozenset(get_args(LevelParam))),
    "object": ("objects", 2, frozenset(get_args(ObjectParam))),
    "event": ("events", 10, None),
    "facet": ("facets", 5, frozenset(get_args(Facet))),
}
_SCOPES = frozenset(get_args(ScopeParam))


def _count(value: str, low: int, high: int) -> int | None:
    """A plain decimal in [low, high]; anything else (signs, spaces, leading zeros) is left to FastAPI."""
    if not (value.isascii() and value.isdigit()) or (len(value) > 1 and value[0] == "0"):
        return None
    number = int(value)
    return number if low <= number <= high else None


def plain_params(scope: MutableMapping[str, Any]) -> dict[str, Any] | None:
    """The search's arguments when the query string is plainly valid, else None.

    The same values FastAPI's declared parameters give (the query string split by the same
    ``parse_qsl`` Starlette uses), for a small fraction of its per-request cost. Anything this
    does not accept outright — an error to report, a NUL, a request with a body, a repeated
    single-valued parameter — goes through FastAPI's own handling, so errors stay its RFC 9457
    answers and the OpenAPI description stays the declared one.
    """
    raw: bytes = scope.get("query_string", b"")
    path: bytes = scope.get("raw_path", b"")
    if b"%00" in raw or b"\x00" in raw or b"%00" in path or b"\x00" in path:
        return None
    for name, _ in scope["headers"]:
        # A body of any kind (declared or chunked) is for BodyLimitMiddleware and the guard to judge.
        if name == b"content-type" or name == b"transfer-encoding" or name == b"content-length":
            return None
    params: dict[str, Any] = {
        "q": "",
        "themes": [],
        "departments": [],
        "levels": [],
        "objects": [],
        "events": [],
        "region": None,
        "region_scope": "up",
        "limit": 10,
        "offset": 0,
        "facets": [],
    }
    seen: set[str] = set()
    for key, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        listed = _LISTS.get(key)
        if listed is not None:
            target, most, allowed = listed
            values = params[target]
            if len(values) == most or (allowed is not None and value not in allowed):
                return None
            values.append(value)
            continue
        if key in seen:
            return None
        seen.add(key)
        if key == "q":
            if len(value) > 100:
                return None
            params["q"] = value
        elif key == "region":
            if len(value) != 6 or not (value.isascii() and value.isdigit()) or value[0] == "0":
                return None
            params["region"] = value
        elif key == "region_scope":
            if value not in _SCOPES:
                return None
            params["region_scope"] = value
        elif key == "limit" or key == "offset":
            number = _count(value, 1, 50) if key == "limit" else _count(value, 0, 1000)
            if number is None:
                return None
            params[key] = number
    return params


#: The route's path as the API serves it (``/api/v1`` + the router's prefix + ``/search``).
SEARCH_PATH = "/api/v1/catalogue/search"
_HEADERS_AFTER_LENGTH = (b"content-type", b"application/json")


class DirectSearch:
    """The innermost middleware: ``GET`` of the search with a plainly valid query string is answered
    here, everything else goes on to FastAPI.

    Inside every middleware of the service (request line and header limits, request id, body
    limit, security headers), so those still see and shape this answer; what it skips is the part
    of FastAPI's stack under them (exception middleware, exit stack, route matching over every
    route, the ``Request`` and the ``Response`` objects), 7.5 % of a search's samples in py-spy
    (docs/adr/0133-search-direct-path.md). It answers exactly what the declared route's handler
    answers for such a query: the same body and the same headers in the same
    order. An error (a control character in ``q``, the index not built yet) is left to the
    declared route, which answers it as problem+json as before. It replaces the route-level
    direct path of ADR 0123 (a ``SearchRoute``), so a search is answered directly in one place.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] == SEARCH_PATH
            and scope["method"] == "GET"
            and not scope.get("root_path")
            and (params := plain_params(scope)) is not None
        ):
            try:
                body = search_service.search_json(**params)
            except (BadQuery, SearchNotReady):
                pass
            else:
                # As Starlette's Response lays them out: content-length, then content-type.
                headers = [(b"content-length", str(len(body)).encode()), _HEADERS_AFTER_LENGTH]
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


router = APIRouter(prefix="/catalogue", tags=["search"], dependencies=GUARDS)


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
        ScopeParam,
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
