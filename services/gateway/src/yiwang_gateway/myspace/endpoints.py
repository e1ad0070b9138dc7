"""Routes of my space (我的): ``/me/cases``, ``/me/materials``, ``/me/licences``, ``/me/registry-record``.

The profile is ``GET /me`` and the agents ``/me/agents`` (account domain). An agent acting for a
legal person sees the legal person's space, and needs the 查看 (view) authority to.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from yiwang_common.http import Forbidden, Unauthorized, problem_responses
from yiwang_common.http.pagination import ListResource, PageQuery
from yiwang_gateway.account.agents import Acting, acting_applicant
from yiwang_gateway.account.errors import (
    AccountNotFound,
    AgentAuthorisationExpired,
    AgentBeyondAuthority,
    NotAuthorisedAgent,
    RegistryMismatch,
)
from yiwang_gateway.account.registry import RegistryClient, registry_client
from yiwang_gateway.application.schemas import ApplicationSummary
from yiwang_gateway.application.service import application_service
from yiwang_gateway.application.status import ApplicationStatus
from yiwang_gateway.dependencies import GUARDS, SessionDep
from yiwang_gateway.material.errors import UpstreamTimeout, UpstreamUnavailable
from yiwang_gateway.myspace.schemas import MyLicences, MyMaterial, RegistryRecord
from yiwang_gateway.myspace.service import myspace_service

router = APIRouter(prefix="/me", tags=["myspace"], dependencies=GUARDS)

Viewer = Annotated[Acting, acting_applicant("view")]
Registry = Annotated[RegistryClient, Depends(registry_client)]
_DENIED = (Unauthorized, Forbidden, NotAuthorisedAgent, AgentAuthorisationExpired, AgentBeyondAuthority)


@router.get(
    "/cases",
    summary="我的办件 My cases",
    response_model=ListResource[ApplicationSummary],
    responses=problem_responses(*_DENIED),
)
async def my_cases(
    acting: Viewer,
    session: SessionDep,
    page: PageQuery,
    status: Annotated[ApplicationStatus | None, Query(description="按状态筛选")] = None,
) -> ListResource[ApplicationSummary]:
    """The caller's (or the legal person's) applications and cases, newest first."""
    return await application_service.list_own(session, principal=acting.principal, status=status, page=page)


@router.get(
    "/materials",
    summary="我的材料 My materials",
    response_model=ListResource[MyMaterial],
    responses=problem_responses(*_DENIED),
)
async def my_materials(acting: Viewer, session: SessionDep, page: PageQuery) -> ListResource[MyMaterial]:
    """Earlier uploads, newest first: reference one by ``sha256`` in a new application to reuse it."""
    return await myspace_service.materials(session, principal=acting.principal, page=page)


@router.get(
    "/held-licences",
    summary="持证主体的证照 E-licences held by me or the legal person I act for",
    response_model=MyLicences,
    responses=problem_responses(*_DENIED, AccountNotFound, UpstreamUnavailable, UpstreamTimeout),
)
async def my_licences(acting: Viewer, session: SessionDep, registry: Registry) -> MyLicences:
    """The e-licences data-sharing holds for the holder (the person, or the legal person acted for)."""
    return await myspace_service.licences(session, principal=acting.principal, registry=registry)


@router.get(
    "/registry-record",
    summary="人口库预填信息 My population-registry record (for pre-filling)",
    response_model=RegistryRecord,
    responses=problem_responses(
        *_DENIED, AccountNotFound, RegistryMismatch, UpstreamUnavailable, UpstreamTimeout
    ),
)
async def my_registry_record(acting: Viewer, session: SessionDep, registry: Registry) -> RegistryRecord:
    """Gender, date of birth and address from the 人口库, for a natural person's forms (lookup recorded)."""
    found = await myspace_service.registry_record(session, principal=acting.principal, registry=registry)
    if found is None:
        raise RegistryMismatch("人口库中没有与您的姓名和公民身份号码一致的记录")
    return found
