"""The REST side of the plug-in contract: token, dispatches and callbacks, as one external system."""

from __future__ import annotations

import time
from typing import Any, Self

import httpx
from pydantic import BaseModel

from yiwang_contracts.plugin import (
    DispatchList,
    PartState,
    ResultReport,
    StepReport,
    SupplementRequest,
    TokenRequest,
    TokenResponse,
)

#: A token is renewed this many seconds before it expires.
RENEW_MARGIN_SECONDS = 30


class PluginError(Exception):
    """The platform answered with a problem (RFC 9457); ``status`` and ``problem`` say which."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(f"{status}: {problem.get('title', '')} {problem.get('detail', '')}".strip())
        self.status = status
        self.problem = problem


class PluginClient:
    """One external system talking to the management platform (``base_url`` ends before ``/api``).

    Tokens are fetched on first use and renewed before they expire; every call that answers 401
    is retried once with a fresh token.
    """

    def __init__(
        self,
        base_url: str,
        *,
        client_id: str,
        client_secret: str,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)
        self._credentials = TokenRequest(client_id=client_id, client_secret=client_secret)
        self._token: TokenResponse | None = None
        self._expires_at = 0.0

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._http.aclose()

    async def token(self, *, renew: bool = False) -> TokenResponse:
        """The current token, exchanged for the client credentials when missing or about to expire."""
        if renew or self._token is None or time.monotonic() >= self._expires_at - RENEW_MARGIN_SECONDS:
            response = await self._http.post("/api/v1/plugin/token", json=self._credentials.model_dump())
            _raise_for_problem(response)
            self._token = TokenResponse.model_validate_json(response.content)
            self._expires_at = time.monotonic() + self._token.expires_in
        return self._token

    async def _call(self, method: str, path: str, body: BaseModel | None = None) -> httpx.Response:
        for attempt in (0, 1):
            token = await self.token(renew=attempt == 1)
            headers = {"Authorization": f"Bearer {token.access_token}"}
            if body is not None:
                headers["Content-Type"] = "application/json"
            response = await self._http.request(
                method, path, headers=headers, content=body.model_dump_json() if body is not None else None
            )
            if response.status_code != 401:
                break
        _raise_for_problem(response)
        return response

    async def dispatches(self) -> DispatchList:
        """The parts dispatched to this system and not acknowledged yet (each counts as one delivery)."""
        return DispatchList.model_validate_json(
            (await self._call("GET", "/api/v1/plugin/dispatches")).content
        )

    async def ack(self, part_no: str) -> PartState:
        """Acknowledge a dispatch: the system has taken the part over; it leaves the list."""
        return await self._state("POST", f"/api/v1/plugin/dispatches/{part_no}/ack")

    async def report_step(self, part_no: str, step: StepReport) -> PartState:
        """Report a finished step (环节) of a part."""
        return await self._state("POST", f"/api/v1/plugin/parts/{part_no}/steps", step)

    async def request_supplement(self, part_no: str, request: SupplementRequest) -> PartState:
        """Ask for a supplement (补正); the window or the applicant (portal) hands it in, and the part comes
        back in :meth:`dispatches` with ``reason: supplemented``."""
        return await self._state("POST", f"/api/v1/plugin/parts/{part_no}/supplement-requests", request)

    async def report_result(self, part_no: str, result: ResultReport) -> PartState:
        """Report the department's decision on its part (idempotent for the same outcome)."""
        return await self._state("POST", f"/api/v1/plugin/parts/{part_no}/result", result)

    async def part(self, part_no: str) -> PartState:
        """Where a part of this system stands."""
        return await self._state("GET", f"/api/v1/plugin/parts/{part_no}")

    async def _state(self, method: str, path: str, body: BaseModel | None = None) -> PartState:
        return PartState.model_validate_json((await self._call(method, path, body)).content)


def _raise_for_problem(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        problem = response.json()
    except ValueError:
        problem = {"title": response.reason_phrase, "detail": response.text[:200]}
    raise PluginError(
        response.status_code, problem if isinstance(problem, dict) else {"detail": str(problem)}
    )
