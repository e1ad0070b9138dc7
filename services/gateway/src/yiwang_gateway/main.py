"""App factory of the 互联网政务服务门户 Internet service portal."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from yiwang_common.auth import TokenIssuer, TokenVerifier
from yiwang_common.contracts.management import (
    CaseAccepted,
    CaseAcceptedWithMaterialsOwed,
    CaseCompleted,
    CaseRegistered,
    CaseRejected,
    CaseSupplementRequested,
    DeliveryCompleted,
    DeliveryDispatched,
    DeliveryTrackingUpdated,
    ItemPublished,
    ItemWithdrawn,
    JointCaseCompleted,
    JointCaseOpened,
    JointPartChanged,
    PaymentOrderPaid,
    StaffAssigned,
)
from yiwang_common.events import Subscription
from yiwang_common.runtime import ServiceSpec, create_service_app
from yiwang_gateway.account.agent_endpoints import router as agent_router
from yiwang_gateway.account.endpoints import router as account_router
from yiwang_gateway.account.realname_endpoints import router as realname_router
from yiwang_gateway.account.registration_endpoints import router as registration_router
from yiwang_gateway.account.registry import build_registry_client
from yiwang_gateway.application.endpoints import router as application_router
from yiwang_gateway.catalogue.endpoints import router as catalogue_router
from yiwang_gateway.catalogue.events import on_item_published, on_item_withdrawn
from yiwang_gateway.config import Settings, get_settings
from yiwang_gateway.console.endpoints import router as console_router
from yiwang_gateway.db import messaging
from yiwang_gateway.draft.endpoints import router as draft_router
from yiwang_gateway.draft.web import router as draft_pages
from yiwang_gateway.federation.endpoints import api_router as backchannel_router, router as federation_router
from yiwang_gateway.federation.logout import SingleLogout
from yiwang_gateway.federation.service import FederationService, form_action_origins
from yiwang_gateway.handling.client import build_business_client
from yiwang_gateway.handling.endpoints import router as handling_router
from yiwang_gateway.handling.events import BUSINESS_SUBSCRIPTION
from yiwang_gateway.handling.web import router as handling_pages
from yiwang_gateway.identity.endpoints import (
    document_token_request,
    router as identity_router,
    wellknown as wellknown_router,
)
from yiwang_gateway.identity.keyring import KeyRing
from yiwang_gateway.identity.pages import router as sign_in_pages_router
from yiwang_gateway.identity.service import IdentityService, sms_pepper
from yiwang_gateway.identity.sms import load_sender
from yiwang_gateway.licence.client import LicenceClient
from yiwang_gateway.licence.endpoints import (
    me_router as my_licences_router,
    pages_router as licence_pages_router,
    router as licence_router,
)
from yiwang_gateway.licence.throttle import SlidingWindow
from yiwang_gateway.material.client import build_client
from yiwang_gateway.material.endpoints import router as material_router
from yiwang_gateway.models import load_all_models
from yiwang_gateway.myspace.endpoints import router as myspace_router
from yiwang_gateway.myspace.web import router as myspace_pages
from yiwang_gateway.payment.client import build_payment_client
from yiwang_gateway.payment.web import router as payment_pages
from yiwang_gateway.progress import events as progress_events
from yiwang_gateway.progress.endpoints import pages_router as progress_pages_router, router as progress_router
from yiwang_gateway.search.endpoints import DirectSearch, router as search_router
from yiwang_gateway.search.service import search_service
from yiwang_gateway.staff.handlers import on_staff_assigned
from yiwang_gateway.web.endpoints import router as pages_router
from yiwang_gateway.web.guides import build_guide_client
from yiwang_gateway.web.rendering import install_pages

DESCRIPTION = """
互联网政务服务门户 — the citizen-facing portal of yiwang (国办函〔2016〕108号).

Log in, browse the item catalogue (办事指南), upload materials, apply online, and follow each
case by its 办件编号 through to the result. Errors are RFC 9457 problem+json.
"""

#: One durable per producer: management's stream carries both the catalogue and the case events.
MANAGEMENT_SUBSCRIPTION = Subscription(
    durable="gateway__management",
    source="management",
    handlers={
        ItemPublished: on_item_published,
        ItemWithdrawn: on_item_withdrawn,
        CaseRegistered: progress_events.on_case_registered,
        CaseSupplementRequested: progress_events.on_case_supplement_requested,
        CaseAccepted: progress_events.on_case_accepted,
        CaseAcceptedWithMaterialsOwed: progress_events.on_case_accepted_with_materials_owed,
        CaseRejected: progress_events.on_case_rejected,
        CaseCompleted: progress_events.on_case_completed,
        JointCaseOpened: progress_events.on_joint_case_opened,
        JointPartChanged: progress_events.on_joint_part_changed,
        JointCaseCompleted: progress_events.on_joint_case_completed,
        StaffAssigned: on_staff_assigned,
        PaymentOrderPaid: progress_events.on_payment_order_paid,
        DeliveryDispatched: progress_events.on_delivery_dispatched,
        DeliveryTrackingUpdated: progress_events.on_delivery_tracking_updated,
        DeliveryCompleted: progress_events.on_delivery_completed,
    },
)

#: ``app.state`` attribute: an httpx transport for the federation back channel (tests).
FEDERATION_TRANSPORT_KEY = "federation_transport"

TAGS = [
    {"name": "account", "description": "注册、经办人 Sign-up, profile, agents"},
    {"name": "myspace", "description": "我的 My space: cases, materials, licences"},
    {
        "name": "identity",
        "description": "身份认证 Sign-in (OAuth 2.0 token endpoint), sessions, revocation, JWKS and discovery",
    },
    {"name": "catalogue", "description": "事项目录与办事指南 Item catalogue"},
    {"name": "search", "description": "事项检索 Search (我要查 / 我要办)"},
    {"name": "material", "description": "申请材料上传 Material upload"},
    {"name": "application", "description": "网上申请 Online applications"},
    {"name": "progress", "description": "办件进度与结果 Case tracking and results"},
    {"name": "licence", "description": "电子证照 My licences and public verification (证照核验)"},
]


async def _on_startup(app: FastAPI) -> None:
    # The key ring is in the gateway's schema: seed it with the configured key, then keep it fresh.
    await app.state.keyring.load(app.state.sessionmaker)
    app.state.keyring.start_reloading(app.state.sessionmaker)
    app.state.datasharing = build_client(app, app.state.settings)
    app.state.licence_client = LicenceClient(app.state.datasharing)
    app.state.guides = build_guide_client(app, app.state.settings)
    app.state.payment_client = build_payment_client(app, app.state.settings)
    app.state.registry = build_registry_client(app, app.state.settings)
    app.state.business = build_business_client(app, app.state.settings)
    # 统分 / 分建: the back channel to the province or the peers (tests put an ASGI transport here).
    transport: httpx.AsyncBaseTransport | None = getattr(app.state, FEDERATION_TRANSPORT_KEY, None)
    app.state.federation_http = httpx.AsyncClient(transport=transport)
    app.state.federation = FederationService(
        app.state.settings, app.state.identity, app.state.federation_verifier, app.state.federation_http
    )
    # Single logout (ADR 0116): ended sessions queue logout notices; a worker posts them.
    app.state.logout = SingleLogout(
        app.state.settings,
        app.state.identity,
        app.state.token_issuer,
        app.state.federation_verifier,
        app.state.federation_http,
    )
    app.state.identity.sessions_ended = app.state.logout.session_ended
    if app.state.settings.run_workers:
        app.state.logout.start(app.state.sessionmaker)
    search_service.cache_size = app.state.settings.search_cache_size
    await search_service.build(app.state.sessionmaker, app.state.settings.search_dictionary_path)


async def _on_shutdown(app: FastAPI) -> None:
    await app.state.keyring.stop()
    logout: SingleLogout | None = getattr(app.state, "logout", None)
    if logout is not None:
        await logout.stop()
    for name in ("datasharing", "guides", "registry", "business", "payment_client", "federation_http"):
        client = getattr(app.state, name, None)
        if client is not None:
            await client.aclose()


class _JwksClient:
    """JWKS fetches of trusted issuers through the app's federation client, made at start-up."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app

    async def get(self, url: str, **kwargs: object) -> httpx.Response:
        client: httpx.AsyncClient = self._app.state.federation_http
        return await client.get(url, **kwargs)  # type: ignore[arg-type]

    async def aclose(self) -> None:
        return None


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the gateway app.

    Args:
        settings: the settings; read from the environment when omitted.

    Returns:
        The FastAPI application.
    """
    load_all_models()
    settings = settings or get_settings()
    app = create_service_app(
        ServiceSpec(
            name="gateway",
            title="互联网政务服务门户 yiwang gateway",
            description=DESCRIPTION,
            routers=[
                # First: the busiest public route is matched before the others are tried (the
                # matching walks the routes in order; no other route takes this path).
                search_router,
                identity_router,
                backchannel_router,
                account_router,
                registration_router,
                realname_router,
                agent_router,
                myspace_router,
                catalogue_router,
                material_router,
                application_router,
                draft_router,
                progress_router,
                handling_router,
                my_licences_router,
                licence_router,
            ],
            tables=messaging,
            subscriptions=[MANAGEMENT_SUBSCRIPTION, BUSINESS_SUBSCRIPTION],
            on_startup=_on_startup,
            on_shutdown=_on_shutdown,
            openapi_tags=TAGS,
            body_limits=[("POST", "/api/v1/materials", settings.max_upload_bytes)],
            # The busiest public request, answered under the common middlewares: ADR 0133.
            inner_middleware=[DirectSearch],
        ),
        settings,
    )
    # One issuer serves every sign-in; its key ring is loaded from the database at start-up.
    issuer = TokenIssuer(settings.auth)
    app.state.token_issuer = issuer
    app.state.keyring = KeyRing(settings, issuer)
    # The gateway verifies its own tokens from its key ring, not over HTTP from itself. Its API
    # takes only its own: a person of another platform signs in here and gets a local account
    # (统分, 分建), so no other platform's token — a city administrator's, say — acts here.
    own_only = settings.auth.model_copy(update={"trusted_issuers": []})
    app.state.token_verifier = TokenVerifier(own_only, local_keys=issuer.public_keys)
    # The other platforms' tokens (ID tokens, peers' answers) are checked only by the federation,
    # with their keys from their JWKS, through the same transport as the back channel.
    app.state.federation_verifier = TokenVerifier(
        settings.auth, local_keys=issuer.public_keys, http_client=_JwksClient(app)
    )
    pepper = settings.identity.sms.code_pepper.get_secret_value() or sms_pepper(settings.auth.private_key_pem)
    sender = load_sender(settings.identity.sms.sender, production=settings.env == "production")
    app.state.identity = IdentityService(settings, issuer, sender, pepper)
    app.include_router(wellknown_router)
    document_token_request(app)
    app.include_router(sign_in_pages_router)
    app.include_router(federation_router)
    # The citizen portal's pages (HTML, outside /api/v1): docs/adr/0017-web-layer.md.
    app.state.licence_limiter = SlidingWindow(settings.public_lookups_per_minute)
    app.state.progress_limiter = SlidingWindow(settings.public_lookups_per_minute)
    app.include_router(console_router)
    app.include_router(myspace_pages)
    app.include_router(draft_pages)
    app.include_router(handling_pages)
    app.include_router(licence_pages_router)
    app.include_router(payment_pages)
    app.include_router(progress_pages_router)
    install_pages(app, pages_router, form_origins=form_action_origins(settings))
    return app
