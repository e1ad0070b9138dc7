"""数据共享平台 client: one shared ``httpx.AsyncClient`` per process, opened in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

import httpx
from fastapi import FastAPI

from yiwang_gateway.config import Settings
from yiwang_gateway.material.errors import UploadTooLarge, UpstreamTimeout, UpstreamUnavailable

#: Tests put an ``httpx.MockTransport`` here before the lifespan starts.
TRANSPORT_STATE_KEY = "datasharing_transport"


class DataSharingClient:
    """Talks to data-sharing's material API."""

    def __init__(self, http: httpx.AsyncClient, max_upload_bytes: int) -> None:
        self._http = http
        self._max = max_upload_bytes

    async def _capped(self, body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        # Content-Length may be absent (chunked) or lie; count what actually flows.
        seen = 0
        async for chunk in body:
            seen += len(chunk)
            if seen > self._max:
                raise UploadTooLarge(f"上传内容不得超过 {self._max} 字节")
            yield chunk

    async def upload(self, body: AsyncIterator[bytes], headers: Mapping[str, str]) -> httpx.Response:
        """Stream a multipart upload through; map transport failures to 502/504 problems."""
        try:
            return await self._http.post(
                "/api/v1/materials", content=self._capped(body), headers=dict(headers)
            )
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout("数据共享平台在规定时间内未响应") from exc
        except httpx.TransportError as exc:
            raise UpstreamUnavailable("无法连接数据共享平台") from exc

    @property
    def http(self) -> httpx.AsyncClient:
        """The shared connection pool to data-sharing (other domains' clients ride on it)."""
        return self._http

    async def aclose(self) -> None:
        await self._http.aclose()


def build_client(app: FastAPI, settings: Settings) -> DataSharingClient:
    """Create the shared client with explicit timeouts."""
    transport: httpx.AsyncBaseTransport | None = getattr(app.state, TRANSPORT_STATE_KEY, None)
    timeout = httpx.Timeout(
        settings.upstream_timeout_seconds, connect=settings.upstream_connect_timeout_seconds
    )
    http = httpx.AsyncClient(
        base_url=settings.datasharing_url,
        timeout=timeout,
        transport=transport,
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )
    return DataSharingClient(http, settings.max_upload_bytes)
