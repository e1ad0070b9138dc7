"""Routes: ``POST /applications``, ``GET /applications``, ``GET /applications/{application_id}``."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request

from yiwang_common.http import Forbidden, Unauthorized, problem_responses
from yiwang_common.http.pagination import ListResource, PageQuery
from yiwang_gateway.account.agents import Acting, acting_applicant
from yiwang_gateway.account.errors import (
    AccountNotFound,
    AgentAuthorisationExpired,
    AgentBeyondAuthority,
    NotAuthorisedAgent,
)
from yiwang_gateway.application.errors import ApplicationNotFound, FormInvalid, IdempotencyKeyReused
from yiwang_gateway.application.schemas import (
    ApplicationCreate,
    ApplicationDetail,
    ApplicationReceipt,
    ApplicationSummary,
)
from yiwang_gateway.application.service import LicenceAccess, application_service
from yiwang_gateway.application.status import ApplicationStatus
from yiwang_gateway.catalogue.errors import ItemNotFound
from yiwang_gateway.dependencies import GUARDS, SessionDep
from yiwang_gateway.licence.errors import LicenceNotAccepted, LicenceNotHeld, LicenceNotUsable
from yiwang_gateway.material.errors import (
    MaterialNotUploaded,
    MaterialTooLarge,
    MaterialTypeNotAllowed,
    MaterialUnknown,
    UpstreamTimeout,
    UpstreamUnavailable,
)

router = APIRouter(prefix="/applications", tags=["application"], dependencies=GUARDS)


@router.post(
    "",
    summary="提交网上申请 Submit an application",
    status_code=202,
    response_model=ApplicationReceipt,
    responses=problem_responses(
        Unauthorized,
        Forbidden,
        NotAuthorisedAgent,
        AgentAuthorisationExpired,
        AgentBeyondAuthority,
        ItemNotFound,
        IdempotencyKeyReused,
        FormInvalid,
        MaterialUnknown,
        MaterialNotUploaded,
        MaterialTypeNotAllowed,
        MaterialTooLarge,
        AccountNotFound,
        LicenceNotHeld,
        LicenceNotAccepted,
        LicenceNotUsable,
        UpstreamUnavailable,
        UpstreamTimeout,
    ),
)
async def submit_application(
    body: ApplicationCreate,
    request: Request,
    acting: Annotated[Acting, acting_applicant("apply")],
    session: SessionDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            # Printable ASCII only: the key is echoed in logs and compared byte for byte.
            pattern=r"^[\x21-\x7e]+$",
            description="幂等键: retries with it submit once",
        ),
    ] = None,
) -> ApplicationReceipt:
    """Check the application against the item and record it; management registers the case.

    An agent (经办人) applies for their legal person: the company is the applicant, the agent is
    recorded beside it, and the item must be within the agent's authority (else 403).
    """
    acting.check_item(body.item_code)
    return await application_service.submit(
        session,
        principal=acting.principal,
        body=body,
        idempotency_key=idempotency_key,
        source=request.app.state.runtime.source,
        agent=acting.agent,
        licences=LicenceAccess(request.app.state.licence_client, request.headers["authorization"]),
    )


@router.get(
    "",
    summary="我的申请 List my applications",
    response_model=ListResource[ApplicationSummary],
    responses=problem_responses(
        Unauthorized, Forbidden, NotAuthorisedAgent, AgentAuthorisationExpired, AgentBeyondAuthority
    ),
)
async def list_applications(
    acting: Annotated[Acting, acting_applicant("view")],
    session: SessionDep,
    page: PageQuery,
    status: Annotated[ApplicationStatus | None, Query(description="按状态筛选")] = None,
) -> ListResource[ApplicationSummary]:
    """Return the caller's own applications, newest first."""
    return await application_service.list_own(session, principal=acting.principal, status=status, page=page)


@router.get(
    "/{application_id}",
    summary="申请详情 Get one of my applications",
    response_model=ApplicationDetail,
    responses=problem_responses(
        Unauthorized,
        Forbidden,
        NotAuthorisedAgent,
        AgentAuthorisationExpired,
        AgentBeyondAuthority,
        ApplicationNotFound,
    ),
)
async def get_application(
    application_id: uuid.UUID, acting: Annotated[Acting, acting_applicant("view")], session: SessionDep
) -> ApplicationDetail:
    """Return one of the caller's applications; others' are not found."""
    return await application_service.get(session, principal=acting.principal, application_id=application_id)
