"""基础库 client: the portal asks data-sharing's registries as its own service principal.

Registration and pre-filling read the 人口库 and the 法人库 through data-sharing's REST API. The
portal signs a short-lived service token (``kind=service``, ``sub=gateway``) with the issuer it
already holds, and says for which account it asks (``X-On-Behalf-Of``), so the registry's
lookup record names both. One ``httpx.AsyncClient`` per process, opened in the lifespan.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI, Request

from yiwang_common.auth import Principal, TokenIssuer
from yiwang_gateway.config import Settings
from yiwang_gateway.material.errors import UpstreamTimeout, UpstreamUnavailable

#: Tests put the real data-sharing app (an ``httpx.ASGITransport``) here before the lifespan starts.
TRANSPORT_STATE_KEY = "registry_transport"
SERVICE_PRINCIPAL = Principal(sub="gateway", name="互联网政务服务门户", kind="service")
_TOKEN_TTL = 300


@dataclass(frozen=True)
class LegalPersonVerification:
    """What the 法人库 said: an exact match or not, and whether the unit is active."""

    matched: bool
    active: bool


class RegistryClient:
    """Talks to data-sharing's ``/api/v1/registry`` and ``/api/v1/licences`` as the portal."""

    def __init__(self, http: httpx.AsyncClient, issuer: TokenIssuer) -> None:
        self._http = http
        self._issuer = issuer
        self._token = ""
        self._token_until = 0.0

    def _headers(self, on_behalf_of: str | None) -> dict[str, str]:
        if time.monotonic() > self._token_until:
            self._token = self._issuer.issue(SERVICE_PRINCIPAL, ttl_seconds=_TOKEN_TTL)
            # Renewed well before it expires, so no request carries a token about to lapse.
            self._token_until = time.monotonic() + _TOKEN_TTL / 2
        headers = {"Authorization": f"Bearer {self._token}"}
        if on_behalf_of:
            headers["X-On-Behalf-Of"] = on_behalf_of
        return headers

    async def _call(self, method: str, path: str, *, on_behalf_of: str | None, **kw: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, path, headers=self._headers(on_behalf_of), **kw)
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout("数据共享平台（基础库）在规定时间内未响应") from exc
        except httpx.TransportError as exc:
            raise UpstreamUnavailable("无法连接数据共享平台（基础库）") from exc
        if response.status_code >= 500 or response.status_code in (401, 403):
            # The portal's own credentials or data-sharing failed: not the user's doing.
            raise UpstreamUnavailable(f"数据共享平台（基础库）返回 {response.status_code}")
        return response

    async def verify_person(self, *, id_number: str, name: str, on_behalf_of: str | None = None) -> bool:
        """Whether the 人口库 has exactly this name with this number."""
        r = await self._call(
            "POST",
            "/api/v1/registry/persons/verification",
            json={"id_number": id_number, "name": name},
            on_behalf_of=on_behalf_of,
        )
        return r.status_code == 200 and bool(r.json().get("matched"))

    async def person_record(
        self, *, id_number: str, name: str, on_behalf_of: str | None
    ) -> dict[str, Any] | None:
        """The 人口库 record for pre-filling, or None without an exact match."""
        r = await self._call(
            "POST",
            "/api/v1/registry/persons/lookup",
            json={"id_number": id_number, "name": name},
            on_behalf_of=on_behalf_of,
        )
        return r.json() if r.status_code == 200 else None

    async def verify_legal_person(
        self, *, credit_code: str, name: str, legal_rep_name: str, legal_rep_id_number: str
    ) -> LegalPersonVerification:
        """Whether the 法人库 has the unit with this name and this 法定代表人."""
        r = await self._call(
            "POST",
            "/api/v1/registry/legal-persons/verification",
            json={
                "credit_code": credit_code,
                "name": name,
                "legal_rep_name": legal_rep_name,
                "legal_rep_id_number": legal_rep_id_number,
            },
            on_behalf_of=None,
        )
        body = r.json() if r.status_code == 200 else {}
        return LegalPersonVerification(matched=bool(body.get("matched")), active=bool(body.get("active")))

    async def legal_person_record(self, *, credit_code: str) -> dict[str, Any] | None:
        """The 法人库 record of a unit for pre-filling, or None."""
        r = await self._call(
            "POST",
            "/api/v1/registry/legal-persons/lookup",
            json={"credit_code": credit_code},
            on_behalf_of=None,
        )
        return r.json() if r.status_code == 200 else None

    async def licences_of(self, *, holder_code: str, on_behalf_of: str) -> list[dict[str, Any]]:
        """The e-licences data-sharing holds for one 持证主体代码."""
        r = await self._call(
            "GET",
            "/api/v1/licences/by-holder",
            params={"holder_code": holder_code},
            on_behalf_of=on_behalf_of,
        )
        if r.status_code != 200:
            raise UpstreamUnavailable(f"数据共享平台（电子证照库）返回 {r.status_code}")
        return list(r.json().get("items", []))

    async def aclose(self) -> None:
        await self._http.aclose()


def build_registry_client(app: FastAPI, settings: Settings) -> RegistryClient:
    """Create the shared client with explicit timeouts."""
    transport: httpx.AsyncBaseTransport | None = getattr(app.state, TRANSPORT_STATE_KEY, None)
    timeout = httpx.Timeout(
        settings.upstream_timeout_seconds, connect=settings.upstream_connect_timeout_seconds
    )
    http = httpx.AsyncClient(base_url=settings.datasharing_url, timeout=timeout, transport=transport)
    return RegistryClient(http, app.state.token_issuer)


async def registry_client(request: Request) -> RegistryClient:
    """FastAPI dependency: the process's registry client."""
    client: RegistryClient = request.app.state.registry
    return client
