"""数据共享平台 e-licence API client: the holder's licences and public verification."""

from __future__ import annotations

from typing import Any

import httpx

from yiwang_gateway.licence.errors import VerificationNotFound
from yiwang_gateway.material.client import DataSharingClient
from yiwang_gateway.material.errors import UpstreamTimeout, UpstreamUnavailable


class LicenceClient:
    """Calls data-sharing's ``/licences`` and ``/licence-verifications`` through the shared client."""

    def __init__(self, datasharing: DataSharingClient) -> None:
        self._datasharing = datasharing

    async def _get(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        try:
            return await self._datasharing.http.get(path, headers=headers)
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout("数据共享平台在规定时间内未响应") from exc
        except httpx.TransportError as exc:
            raise UpstreamUnavailable("无法连接数据共享平台") from exc

    async def held(self, authorization: str) -> list[dict[str, Any]]:
        """The caller's licences (我的证照), asked with the caller's own token."""
        response = await self._get("/api/v1/licences", headers={"Authorization": authorization})
        if response.status_code != 200:
            raise UpstreamUnavailable(f"数据共享平台返回 {response.status_code}")
        body: list[dict[str, Any]] = response.json()
        return body

    async def verify(self, token: str) -> dict[str, Any]:
        """The verification of a QR code's token."""
        response = await self._get(f"/api/v1/licence-verifications/{token}")
        if response.status_code in (404, 422):
            raise VerificationNotFound("该核验码不对应任何电子证照")
        if response.status_code != 200:
            raise UpstreamUnavailable(f"数据共享平台返回 {response.status_code}")
        body: dict[str, Any] = response.json()
        return body
