"""REST endpoints of the base registries: ``/registry/...`` (exact-match lookups, file loads)."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, BackgroundTasks, Depends, Header, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import CurrentPrincipal
from yiwang_common.db import get_session
from yiwang_common.http.problems import Unauthorized, problem_responses
from yiwang_common.text import Filename, forbidden_character
from yiwang_datasharing.config import Settings
from yiwang_datasharing.registry.audit import LookupCaller
from yiwang_datasharing.registry.errors import (
    AccessReasonRequired,
    InvalidLookupKey,
    LoadJobNotFound,
    RegistryAccessDenied,
    RegistryFileTooLarge,
    RegistryFileUnreadable,
    RegistryRecordNotFound,
)
from yiwang_datasharing.registry.files import XLSX_MEDIA_TYPE, Registry
from yiwang_datasharing.registry.schemas import (
    LegalPersonLookupRequest,
    LegalPersonRecordOut,
    LegalPersonVerifyRequest,
    LoadJobOut,
    PersonRecordOut,
    PersonVerifyRequest,
    VerifyResult,
)
from yiwang_datasharing.registry.service import authorise_load, authorise_lookup, job_out, registry_service

router = APIRouter(prefix="/registry", tags=["registry"])

Session = Annotated[AsyncSession, Depends(get_session, scope="function")]

_LOOKUP_PROBLEMS = problem_responses(
    Unauthorized, RegistryAccessDenied, AccessReasonRequired, InvalidLookupKey
)


async def lookup_caller(
    request: Request,
    principal: CurrentPrincipal,
    reason: Annotated[
        str | None,
        Header(
            alias="X-Access-Reason",
            max_length=600,
            description="查询事由, percent-encoded UTF-8 (required of staff; recorded)",
        ),
    ] = None,
    on_behalf_of: Annotated[
        str | None,
        Header(alias="X-On-Behalf-Of", max_length=64, description="The portal account a service asks for"),
    ] = None,
) -> LookupCaller:
    """The admitted caller of a lookup (deny by default)."""
    settings: Settings = request.app.state.settings
    # Header values are ASCII: a Chinese reason travels percent-encoded.
    stated = unquote(reason).strip()[:200] if reason else None
    if stated and forbidden_character(stated):
        raise AccessReasonRequired("查询事由包含不允许的字符")
    caller = authorise_lookup(
        principal,
        service_clients=settings.registry_service_clients,
        staff_roles=settings.registry_staff_roles,
        reason=stated,
    )
    # Only a service speaks for someone else; staff speak for themselves.
    return LookupCaller(
        caller.principal, on_behalf_of if principal.kind == "service" else None, caller.reason
    )


Caller = Annotated[LookupCaller, Depends(lookup_caller)]


@router.post(
    "/persons/verification",
    summary="人口库核验 Verify a name against a 公民身份号码",
    response_model=VerifyResult,
    responses=_LOOKUP_PROBLEMS,
)
async def verify_person(body: PersonVerifyRequest, caller: Caller, session: Session) -> VerifyResult:
    """Exact match of number and name; the answer never says which of the two differed. Recorded."""
    return await registry_service.verify_person(session, caller=caller, body=body)


@router.post(
    "/persons/lookup",
    summary="人口库预填 A person's record after an exact match",
    response_model=PersonRecordOut,
    responses={**_LOOKUP_PROBLEMS, **problem_responses(RegistryRecordNotFound)},
)
async def prefill_person(body: PersonVerifyRequest, caller: Caller, session: Session) -> PersonRecordOut:
    """The record (gender, date of birth, address) for pre-filling forms. Recorded."""
    return await registry_service.prefill_person(session, caller=caller, body=body)


@router.post(
    "/legal-persons/verification",
    summary="法人库核验 Verify a unit and its 法定代表人",
    response_model=VerifyResult,
    responses=_LOOKUP_PROBLEMS,
)
async def verify_legal_person(
    body: LegalPersonVerifyRequest, caller: Caller, session: Session
) -> VerifyResult:
    """Exact match of code, unit name and representative (name and number). Recorded."""
    return await registry_service.verify_legal_person(session, caller=caller, body=body)


@router.post(
    "/legal-persons/lookup",
    summary="法人库预填 A unit by its exact 统一社会信用代码",
    response_model=LegalPersonRecordOut,
    responses={**_LOOKUP_PROBLEMS, **problem_responses(RegistryRecordNotFound)},
)
async def lookup_legal_person(
    body: LegalPersonLookupRequest, caller: Caller, session: Session
) -> LegalPersonRecordOut:
    """The unit as registered, for pre-filling a legal person's sign-up. Recorded."""
    return await registry_service.lookup_legal_person(session, caller=caller, credit_code=body.credit_code)


_LOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "The registry file: CSV (UTF-8) or xlsx, format in docs/base-registries.md",
        "content": {
            "text/csv": {"schema": {"type": "string", "format": "binary"}},
            XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.post(
    "/{registry}/loads",
    summary="导入基础库文件 Load a registry file",
    status_code=202,
    response_model=LoadJobOut,
    openapi_extra=_LOAD_BODY,
    responses=problem_responses(
        Unauthorized, RegistryAccessDenied, RegistryFileTooLarge, RegistryFileUnreadable
    ),
)
async def start_load(
    registry: Registry,
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    session: Session,
    background: BackgroundTasks,
    filename: Annotated[
        Filename, Query(description="文件名 (for the job; .xlsx marks a workbook)")
    ] = "upload.csv",
) -> LoadJobOut:
    """Start a load (中心管理员 only) and answer at once; follow it at ``links.self``."""
    authorise_load(principal)
    settings: Settings = request.app.state.settings
    content = bytearray()
    async for chunk in request.stream():
        content += chunk
        if len(content) > settings.max_registry_file_bytes:
            raise RegistryFileTooLarge(
                f"经接口导入的文件不得超过 {settings.max_registry_file_bytes} 字节，请用命令行导入"
            )
    if not content:
        raise RegistryFileUnreadable("文件为空")
    job = await registry_service.create_job(
        session, registry=registry, content=bytes(content), filename=filename, started_by=principal.sub
    )
    # The job row commits with this request; the load runs after the answer, in batches of its own.
    background.add_task(
        registry_service.run_load,
        request.app.state.sessionmaker,
        job_id=job.id,
        registry=registry,
        content=bytes(content),
        filename=filename,
    )
    response.headers["Location"] = f"/api/v1/registry/loads/{job.id}"
    return job_out(job)


@router.get(
    "/loads/{job_id}",
    summary="导入进度 A load's progress and row errors",
    response_model=LoadJobOut,
    responses=problem_responses(Unauthorized, RegistryAccessDenied, LoadJobNotFound),
)
async def get_load(job_id: uuid.UUID, principal: CurrentPrincipal, session: Session) -> LoadJobOut:
    """Progress (rows done of total), counts and the first 1,000 row errors (row, column, reason)."""
    authorise_load(principal)
    return await registry_service.get_job(session, job_id=job_id)
