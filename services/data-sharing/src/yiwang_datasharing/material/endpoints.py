"""REST endpoints of the material domain: ``/materials``."""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.access import AccessReason, ReasonRequired
from yiwang_common.auth import CurrentPrincipal
from yiwang_common.db import get_session
from yiwang_common.http.problems import Unauthorized, problem_responses
from yiwang_datasharing.config import Settings
from yiwang_datasharing.material.blobstore import BlobStore
from yiwang_datasharing.material.errors import (
    EmptyMaterial,
    FilenameInvalid,
    MalformedUpload,
    MaterialNotFound,
    MaterialTooLarge,
    UnsupportedMaterialType,
)
from yiwang_datasharing.material.schemas import MaterialSchema, Sha256Path
from yiwang_datasharing.material.service import STORABLE_TYPES, material_service
from yiwang_datasharing.material.upload import FIELD_NAME, read_upload

log = logging.getLogger(__name__)

router = APIRouter(prefix="/materials", tags=["materials"])

Session = Annotated[AsyncSession, Depends(get_session, scope="function")]

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FIELD_NAME],
                    "properties": {
                        FIELD_NAME: {"type": "string", "format": "binary", "description": "材料文件"}
                    },
                }
            }
        },
    }
}


async def get_blob_store(request: Request) -> BlobStore:
    """The app's blob store."""
    store: BlobStore = request.app.state.blob_store
    return store


Blobs = Annotated[BlobStore, Depends(get_blob_store)]


@router.post(
    "",
    summary="上传材料 Upload a material",
    status_code=201,
    response_model=MaterialSchema,
    openapi_extra=UPLOAD_BODY,
    responses={
        200: {"model": MaterialSchema, "description": "已上传过同一内容 (幂等)"},
        **problem_responses(
            Unauthorized,
            MaterialTooLarge,
            UnsupportedMaterialType,
            EmptyMaterial,
            MalformedUpload,
            FilenameInvalid,
        ),
    },
)
async def upload_material(
    request: Request, response: Response, principal: CurrentPrincipal, session: Session, blobs: Blobs
) -> MaterialSchema:
    """Store a PDF, PNG, JPEG or OFD file by its SHA-256; 201 the first time for the caller, 200 after."""
    settings: Settings = request.app.state.settings
    upload = await read_upload(
        request.stream(),
        content_type=request.headers.get("content-type"),
        content_length=request.headers.get("content-length"),
        max_bytes=settings.max_material_bytes,
    )
    material, created = await material_service.store(
        session, upload=upload, owner_id=principal.sub, allowed=settings.allowed_media_types, blobs=blobs
    )
    response.status_code = 201 if created else 200
    return material


@router.get(
    "/{sha256}",
    summary="下载材料 Download a material",
    response_class=StreamingResponse,
    responses={
        200: {
            # The stored, detected type is sent (never a client's claim); these are all it can be.
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}} for media in STORABLE_TYPES
            },
            "description": "材料内容, with the media type detected at upload",
            "headers": {
                "ETag": {"description": "内容 SHA-256", "schema": {"type": "string"}},
                "Content-Length": {"description": "字节数", "schema": {"type": "integer"}},
            },
        },
        **problem_responses(Unauthorized, ReasonRequired, MaterialNotFound),
    },
)
async def download_material(
    sha256: Sha256Path, principal: CurrentPrincipal, session: Session, blobs: Blobs, reason: AccessReason
) -> StreamingResponse:
    """Stream a material's bytes to its uploader or to staff who may read a case that lists it."""
    material = await material_service.get_visible(session, sha256=sha256, principal=principal, reason=reason)
    if not await blobs.exists(sha256):
        log.error("material row without blob", extra={"sha256": sha256})
        raise MaterialNotFound(f"材料 {sha256} 不存在")
    headers = {
        "Content-Length": str(material.size),
        "ETag": f'"{sha256}"',
        "Cache-Control": "private, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
    }
    if material.filename:
        headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(material.filename)}"
    return StreamingResponse(blobs.open(sha256), media_type=material.media_type, headers=headers)


@router.get(
    "/{sha256}/meta",
    summary="材料信息 Material metadata",
    response_model=MaterialSchema,
    responses=problem_responses(Unauthorized, ReasonRequired, MaterialNotFound),
)
async def material_meta(
    sha256: Sha256Path, principal: CurrentPrincipal, session: Session, reason: AccessReason
) -> MaterialSchema:
    """Return a material's size, type and file name to its uploader or to staff of a case that lists it."""
    return await material_service.get_visible(session, sha256=sha256, principal=principal, reason=reason)
