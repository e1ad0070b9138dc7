"""管理平台 client for the 办事指南 PDF and a case's 通知书 PDFs: management renders them, the portal
streams them through (a notice with the applicant's own token, so management checks who asks).

The portal never imports management (services talk over REST); it only forwards the bytes and
the caching headers management set from the item version.
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

from yiwang_common.http.problems import NotFound, Problem, ServiceUnavailable
from yiwang_gateway.config import Settings

#: Tests put an ``httpx.MockTransport`` here before the lifespan starts.
TRANSPORT_STATE_KEY = "management_transport"
#: Headers of management's answer the citizen's browser needs (type, caching, file name).
FORWARDED = (
    "content-type",
    "content-length",
    "etag",
    "last-modified",
    "cache-control",
    "content-disposition",
)


class GuideNotFound(NotFound):
    """management has no published guide with that code."""

    code = "guide_not_found"
    title = "办事指南不存在"


class ManagementBadGateway(Problem):
    """management answered, but with a failure."""

    status = 502
    code = "upstream_failed"
    title = "政务服务管理平台暂时无法提供办事指南"


class ManagementUnavailable(ServiceUnavailable):
    """management could not be reached or did not answer in time."""

    code = "upstream_unavailable"
    title = "政务服务管理平台暂不可用"


#: The notice kind of a joint case's one combined result (management's ``/joint-cases/{no}/notice.pdf``).
JOINT_NOTICE = "joint"


class NoticeNotFound(NotFound):
    """management has no such notice for this applicant's case."""

    code = "notice_not_issued"
    title = "该办件尚未出具此类通知书"


class GuideClient:
    """Fetches guide PDFs from management's public guide endpoint."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def pdf(self, item_code: str, if_none_match: str | None) -> StreamingResponse:
        """Stream management's PDF back; map its 404 and its failures to the portal's problems."""
        # identity: the bytes (and Content-Length) pass through exactly as management sent them.
        headers = {"Accept-Encoding": "identity"}
        if if_none_match:
            headers["If-None-Match"] = if_none_match
        request = self._http.build_request(
            "GET", f"/api/v1/catalogue/items/{item_code}/guide.pdf", headers=headers
        )
        try:
            upstream = await self._http.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise ManagementUnavailable("政务服务管理平台在规定时间内未响应，请稍后再试") from exc
        except httpx.TransportError as exc:
            raise ManagementUnavailable("无法连接政务服务管理平台，请稍后再试") from exc
        if upstream.status_code not in (200, 304):
            await upstream.aclose()
            if upstream.status_code in (404, 422):
                raise GuideNotFound(f"事项 {item_code} 没有已发布的办事指南")
            raise ManagementBadGateway(f"政务服务管理平台返回 {upstream.status_code}")
        kept = {k: v for k, v in upstream.headers.items() if k.lower() in FORWARDED}
        return StreamingResponse(
            upstream.aiter_bytes(),
            status_code=upstream.status_code,
            headers=kept,
            background=BackgroundTask(upstream.aclose),
        )

    async def notice(self, case_no: str, kind: str, authorization: str) -> StreamingResponse:
        """Stream a case's notice PDF (受理 / 一次性告知 / 不予受理, or ``joint``: a joint case's
        联办结果告知书), fetched with the applicant's token."""
        path = (
            f"/api/v1/joint-cases/{case_no}/notice.pdf"
            if kind == JOINT_NOTICE
            else f"/api/v1/cases/{case_no}/notices/{kind}.pdf"
        )
        request = self._http.build_request(
            "GET", path, headers={"Accept-Encoding": "identity", "Authorization": authorization}
        )
        try:
            upstream = await self._http.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise ManagementUnavailable("政务服务管理平台在规定时间内未响应，请稍后再试") from exc
        except httpx.TransportError as exc:
            raise ManagementUnavailable("无法连接政务服务管理平台，请稍后再试") from exc
        if upstream.status_code != 200:
            await upstream.aclose()
            if upstream.status_code in (401, 403, 404, 422):
                # Someone else's case, or no such notice: not told apart (ADR 0013).
                raise NoticeNotFound(f"办件 {case_no} 没有可下载的此类通知书")
            raise ManagementBadGateway(f"政务服务管理平台返回 {upstream.status_code}")
        kept = {k: v for k, v in upstream.headers.items() if k.lower() in FORWARDED}
        return StreamingResponse(
            upstream.aiter_bytes(), status_code=200, headers=kept, background=BackgroundTask(upstream.aclose)
        )

    async def joint_correction(
        self, joint_no: str, part_no: str, authorization: str, body: dict[str, Any]
    ) -> httpx.Response:
        """Hand a joint part's 补正 to management with the applicant's token; its answer as it came
        (the caller maps refusals), management's failures and silence as problems."""
        try:
            upstream = await self._http.post(
                f"/api/v1/joint-cases/{joint_no}/parts/{part_no}/correction",
                json=body,
                headers={"Authorization": authorization},
            )
        except httpx.TimeoutException as exc:
            raise ManagementUnavailable("政务服务管理平台在规定时间内未响应，请稍后再试") from exc
        except httpx.TransportError as exc:
            raise ManagementUnavailable("无法连接政务服务管理平台，请稍后再试") from exc
        if upstream.status_code >= 500 or upstream.status_code in (401, 403):
            raise ManagementBadGateway(f"政务服务管理平台返回 {upstream.status_code}")
        return upstream

    async def aclose(self) -> None:
        await self._http.aclose()


def build_guide_client(app: FastAPI, settings: Settings) -> GuideClient:
    """Create the shared client with explicit timeouts."""
    transport: httpx.AsyncBaseTransport | None = getattr(app.state, TRANSPORT_STATE_KEY, None)
    timeout = httpx.Timeout(
        settings.upstream_timeout_seconds, connect=settings.upstream_connect_timeout_seconds
    )
    http = httpx.AsyncClient(
        base_url=settings.management_url,
        timeout=timeout,
        transport=transport,
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=10),
    )
    return GuideClient(http)
