"""业务办理系统 client: the applicant's own 补正 and 撤回, sent with the applicant's own token.

business owns the rules (a correction only while the case waits for one, a withdrawal only before
the decision, only by the case's applicant); the portal forwards the caller's token and passes
business's refusals on with their status and zh-CN reason.
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from yiwang_common.http.problems import Problem
from yiwang_common.observability import current_request_id
from yiwang_gateway.config import Settings
from yiwang_gateway.handling.errors import (
    BusinessUnavailable,
    CaseNotInHandling,
    HandlingInvalid,
    HandlingRefused,
)

#: Tests put an ``httpx.MockTransport`` here before the lifespan starts.
TRANSPORT_STATE_KEY = "business_transport"


def _refusal(upstream: httpx.Response) -> Problem:
    try:
        body = upstream.json()
    except ValueError:
        body = {}
    detail = str(body.get("detail") or body.get("title") or f"业务办理系统返回 {upstream.status_code}")
    if upstream.status_code == 404:
        return CaseNotInHandling(detail)
    if upstream.status_code == 422:
        return HandlingInvalid(detail, upstream_code=str(body.get("code", "")))
    return HandlingRefused(detail, upstream_code=str(body.get("code", "")))


class BusinessClient:
    """Talks to business's applicant endpoints (``/api/v1/cases/{case_no}/correction|withdraw``)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def _post(self, path: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"}
        if rid := current_request_id():
            headers["x-request-id"] = rid
        try:
            upstream = await self._http.post(path, json=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise BusinessUnavailable("业务办理系统在规定时间内未响应，请稍后再试") from exc
        except httpx.TransportError as exc:
            raise BusinessUnavailable("无法连接业务办理系统，请稍后再试") from exc
        if upstream.status_code == 200:
            result: dict[str, Any] = upstream.json()
            return result
        if 400 <= upstream.status_code < 500 and upstream.status_code not in (401, 403):
            raise _refusal(upstream)
        raise BusinessUnavailable(f"业务办理系统返回 {upstream.status_code}")

    async def correct(self, case_no: str, token: str, *, form: dict[str, Any], note: str) -> dict[str, Any]:
        return await self._post(f"/api/v1/cases/{case_no}/correction", token, {"form": form, "note": note})

    async def withdraw(self, case_no: str, token: str, *, reason: str) -> dict[str, Any]:
        return await self._post(f"/api/v1/cases/{case_no}/withdraw", token, {"reason": reason})

    async def aclose(self) -> None:
        await self._http.aclose()


def build_business_client(app: FastAPI, settings: Settings) -> BusinessClient:
    """Create the shared client with explicit timeouts."""
    transport: httpx.AsyncBaseTransport | None = getattr(app.state, TRANSPORT_STATE_KEY, None)
    timeout = httpx.Timeout(
        settings.upstream_timeout_seconds, connect=settings.upstream_connect_timeout_seconds
    )
    http = httpx.AsyncClient(
        base_url=settings.business_url,
        timeout=timeout,
        transport=transport,
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=10),
    )
    return BusinessClient(http)
