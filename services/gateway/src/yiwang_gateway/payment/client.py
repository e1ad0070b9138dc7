"""管理平台 client for a citizen's fee and delivery (缴费、送达) and the sandbox provider's cashier.

The portal never imports management: it forwards the citizen's own token, and management decides
what the citizen may see and do (their own cases only).
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from yiwang_common.http.problems import Problem, ServiceUnavailable
from yiwang_gateway.config import Settings

#: Tests put an ``httpx`` transport here before the lifespan starts (as for the guides).
TRANSPORT_STATE_KEY = "management_transport"


class PaymentUnavailable(ServiceUnavailable):
    """management did not answer."""

    code = "payment_upstream_unavailable"
    title = "缴费服务暂不可用，请稍后再试"


class Upstream(Problem):
    """management answered with a problem: its status and zh-CN detail pass through to the page."""

    code = "payment_upstream_problem"
    title = "缴费与送达"


def _upstream(status: int) -> type[Upstream]:
    # One subclass per status (a problem's status is its class's), made once each.
    found = _UPSTREAM.get(status)
    if found is None:
        found = type(f"Upstream{status}", (Upstream,), {"status": status})
        _UPSTREAM[status] = found
    return found


_UPSTREAM: dict[int, type[Upstream]] = {}


class PaymentClient:
    """Calls management's ``/cases/{case_no}/payment``, ``/delivery`` and ``/payment-sandbox``."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def _call(self, method: str, path: str, token: str | None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            return await self._http.request(method, f"/api/v1{path}", headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise PaymentUnavailable("无法连接政务服务管理平台，请稍后再试") from exc

    async def json(self, method: str, path: str, token: str | None, **kwargs: Any) -> dict[str, Any]:
        """The answer's JSON; a problem raises :class:`Upstream` with management's status and detail."""
        response = await self._call(method, path, token, **kwargs)
        if response.status_code >= 400:
            raise _problem(response)
        body: dict[str, Any] = response.json()
        return body

    async def pdf(self, path: str, token: str) -> httpx.Response:
        """A PDF as management sent it (or :class:`Upstream`)."""
        response = await self._call("GET", path, token)
        if response.status_code >= 400:
            raise _problem(response)
        return response

    async def aclose(self) -> None:
        await self._http.aclose()


def _problem(response: httpx.Response) -> Upstream:
    try:
        body = response.json()
        detail = str(body.get("detail") or body.get("title") or "")
    except ValueError:
        detail = ""
    status = response.status_code if response.status_code < 500 else 502
    return _upstream(status)(detail or f"政务服务管理平台返回 {response.status_code}")


def build_payment_client(app: FastAPI, settings: Settings) -> PaymentClient:
    """The shared client, with explicit timeouts."""
    transport: httpx.AsyncBaseTransport | None = getattr(app.state, TRANSPORT_STATE_KEY, None)
    timeout = httpx.Timeout(
        settings.upstream_timeout_seconds, connect=settings.upstream_connect_timeout_seconds
    )
    return PaymentClient(
        httpx.AsyncClient(base_url=settings.management_url, timeout=timeout, transport=transport)
    )
