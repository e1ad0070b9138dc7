"""The data-sharing platform's application (政务服务数据共享平台, port 8003)."""

from __future__ import annotations

from fastapi import FastAPI

from yiwang_common.runtime import ServiceSpec, create_service_app
from yiwang_datasharing.audit.endpoints import router as audit_router
from yiwang_datasharing.case_record.endpoints import router as case_router
from yiwang_datasharing.config import Settings, get_settings
from yiwang_datasharing.db import messaging
from yiwang_datasharing.licence.endpoints import (
    catalogue_router as licence_type_router,
    keys_router as licence_key_router,
    router as licence_router,
    verification_router as licence_verification_router,
)
from yiwang_datasharing.licence.service import LicenceSigner
from yiwang_datasharing.material.blobstore import FileBlobStore
from yiwang_datasharing.material.endpoints import router as material_router
from yiwang_datasharing.material.upload import ENVELOPE_ALLOWANCE
from yiwang_datasharing.models import load_all_models
from yiwang_datasharing.registry.endpoints import router as registry_router
from yiwang_datasharing.subscriptions import build_subscriptions

NAME = "datasharing"

DESCRIPTION = """
政务服务数据共享平台 — the system of record the other platforms exchange through (Figure 3-2):
content-addressed **materials** (材料), the **case library** (办件信息库) with every process step,
and the **e-licence library** (电子证照库).
"""

TAGS = [
    {"name": "materials", "description": "材料: upload once, addressed by SHA-256"},
    {"name": "cases", "description": "办件信息库: case records and process steps"},
    {"name": "licences", "description": "电子证照库: registered e-licences"},
    {"name": "registry", "description": "基础库: population (人口库) and legal-person (法人库) registries"},
    {
        "name": "audit",
        "description": "审计日志: sign-ins, permission changes, reads of personal data (append-only)",
    },
    {"name": "licences", "description": "电子证照库: signed e-licences, verification, catalogue and keys"},
]


def event_source(settings: Settings) -> str:
    """The CloudEvents ``source`` of this service's events (same form as the runtime's)."""
    return f"urn:yiwang:{settings.platform.region_code}:{NAME}"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the data-sharing app with its routers, consumers and blob store."""
    settings = settings or get_settings()
    load_all_models()
    signer = LicenceSigner.from_settings(settings)
    spec = ServiceSpec(
        name=NAME,
        title="yiwang 政务服务数据共享平台",
        description=DESCRIPTION,
        routers=[
            material_router,
            case_router,
            licence_router,
            registry_router,
            audit_router,
            licence_verification_router,
            licence_type_router,
            licence_key_router,
        ],
        tables=messaging,
        subscriptions=build_subscriptions(event_source(settings), signer),
        openapi_tags=TAGS,
        # The upload reader refuses a large file itself (with its own message); this bounds the rest.
        body_limits=[("POST", "/api/v1/materials", settings.max_material_bytes + ENVELOPE_ALLOWANCE)],
    )
    app = create_service_app(spec, settings)
    app.state.blob_store = FileBlobStore(settings.blob_path)
    app.state.licence_signer = signer
    app.state.event_source = event_source(settings)
    return app
