"""Routes: ``GET /api/v1/me/licences``, ``GET /api/v1/licences/verification/{token}``, the page ``/licences/verify/{token}``."""

from __future__ import annotations

from datetime import timedelta, timezone

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from yiwang_common.http import Forbidden, Unauthorized, problem_responses
from yiwang_gateway.account.throttle import client_address
from yiwang_gateway.config import Settings
from yiwang_gateway.dependencies import GUARDS, ApplicantPrincipal
from yiwang_gateway.licence.client import LicenceClient
from yiwang_gateway.licence.errors import VerificationNotFound, VerificationThrottled
from yiwang_gateway.licence.schemas import MyLicence, TokenPath, Verification
from yiwang_gateway.licence.service import licence_service
from yiwang_gateway.licence.throttle import SlidingWindow
from yiwang_gateway.material.errors import UpstreamTimeout, UpstreamUnavailable
from yiwang_gateway.web.rendering import PageRoute, render

CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

me_router = APIRouter(prefix="/me/licences", tags=["licence"], dependencies=GUARDS)
router = APIRouter(prefix="/licences", tags=["licence"], dependencies=GUARDS)
pages_router = APIRouter(tags=["pages"], dependencies=GUARDS, route_class=PageRoute, include_in_schema=False)


def _client(request: Request) -> LicenceClient:
    client: LicenceClient = request.app.state.licence_client
    return client


async def _verify(request: Request, token: str) -> Verification:
    settings: Settings = request.app.state.settings
    limiter: SlidingWindow = request.app.state.licence_limiter
    return await licence_service.verify(
        _client(request), limiter, address=client_address(request, settings.login), token=token
    )


@me_router.get(
    "",
    summary="我的证照 My licences",
    response_model=list[MyLicence],
    responses=problem_responses(Unauthorized, Forbidden, UpstreamUnavailable, UpstreamTimeout),
)
async def my_licences(request: Request, principal: ApplicantPrincipal) -> list[MyLicence]:
    """The caller's e-licences from the e-licence library, each with its verification QR code."""
    settings: Settings = request.app.state.settings
    return await licence_service.my_licences(
        _client(request), authorization=request.headers["authorization"], portal_url=settings.portal_url
    )


@router.get(
    "/verification/{token}",
    summary="证照核验 Verify a licence by its QR code (public)",
    response_model=Verification,
    responses=problem_responses(
        VerificationNotFound, VerificationThrottled, UpstreamUnavailable, UpstreamTimeout
    ),
)
async def verify_licence(request: Request, token: TokenPath) -> Verification:
    """Whether the licence behind a QR code is valid now; the masked holder, issuer and dates only."""
    return await _verify(request, token)


@pages_router.get("/licences/verify/{token}", response_class=HTMLResponse)
async def verify_page(request: Request, token: TokenPath) -> HTMLResponse:
    """证照核验 page the licence QR code opens: the verdict and what it rests on, nothing more."""
    verification = await _verify(request, token)
    checked_at = f"{verification.checked_at.astimezone(CHINA_TZ):%Y-%m-%d %H:%M:%S}"
    response = render(request, "licence_verify.html", {"v": verification, "checked_at": checked_at, "q": ""})
    # A verdict is of this moment (a revocation shows at once): never cached, never indexed.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
