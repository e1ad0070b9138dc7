"""Route: ``POST /materials`` (multipart, streamed through to data-sharing)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from yiwang_common.http import problem_responses
from yiwang_common.observability import current_request_id
from yiwang_gateway.account.agents import Acting, acting_applicant
from yiwang_gateway.account.errors import AgentAuthorisationExpired, AgentBeyondAuthority, NotAuthorisedAgent
from yiwang_gateway.dependencies import GUARDS, SessionDep
from yiwang_gateway.material.client import DataSharingClient
from yiwang_gateway.material.errors import (
    MultipartRequired,
    UploadTooLarge,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from yiwang_gateway.material.schemas import MaterialUploaded
from yiwang_gateway.material.service import material_service

router = APIRouter(prefix="/materials", tags=["material"], dependencies=GUARDS)

_MULTIPART_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary", "description": "材料文件"}},
                }
            }
        },
    }
}


_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": MaterialUploaded, "description": "已上传过相同内容 (same content again)"},
    **problem_responses(
        MultipartRequired,
        UploadTooLarge,
        UpstreamUnavailable,
        UpstreamTimeout,
        NotAuthorisedAgent,
        AgentAuthorisationExpired,
        AgentBeyondAuthority,
    ),
}


def _forward_headers(request: Request) -> dict[str, str]:
    headers = {
        "authorization": request.headers["authorization"],
        "content-type": request.headers["content-type"],
    }
    if length := request.headers.get("content-length"):
        headers["content-length"] = length
    if rid := current_request_id():
        headers["x-request-id"] = rid
    return headers


def _check_declared(request: Request, cap: int) -> None:
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise MultipartRequired("请以 multipart/form-data 上传，字段名 file")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > cap:
        raise UploadTooLarge(f"上传内容不得超过 {cap} 字节")


@router.post(
    "",
    summary="上传申请材料 Upload a material",
    status_code=201,
    response_model=MaterialUploaded,
    responses=_RESPONSES,
    openapi_extra=_MULTIPART_BODY,
)
async def upload_material(
    request: Request, acting: Annotated[Acting, acting_applicant("apply", "supplement")], session: SessionDep
) -> Response:
    """Stream the file to data-sharing and remember that this account uploaded it."""
    _check_declared(request, request.app.state.settings.max_upload_bytes)
    client: DataSharingClient = request.app.state.datasharing
    upstream = await client.upload(request.stream(), _forward_headers(request))
    if 400 <= upstream.status_code < 500:
        return Response(
            upstream.content,
            status_code=upstream.status_code,
            media_type=upstream.headers.get("content-type", "application/problem+json"),
        )
    if upstream.status_code not in (200, 201):
        raise UpstreamUnavailable(f"数据共享平台返回 {upstream.status_code}")
    try:
        uploaded = MaterialUploaded.model_validate_json(upstream.content)
    except ValidationError as exc:
        raise UpstreamUnavailable("数据共享平台返回了无法识别的内容") from exc
    # An agent's upload belongs to the legal person it acts for, like the application.
    await material_service.record_upload(session, owner_id=acting.principal.sub, uploaded=uploaded)
    return JSONResponse(upstream.json(), status_code=upstream.status_code)
