"""Routes: ``POST|GET /application-drafts``, ``GET|PUT /application-drafts/{draft_id}``,
``POST /application-drafts/{draft_id}/submit`` (the owner only; another account's draft is 404)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request

from yiwang_common.http import Forbidden, Unauthorized, problem_responses
from yiwang_common.http.pagination import ListResource, PageQuery
from yiwang_gateway.account.agents import Acting, acting_applicant
from yiwang_gateway.account.errors import (
    AccountNotFound,
    AgentAuthorisationExpired,
    AgentBeyondAuthority,
    NotAuthorisedAgent,
)
from yiwang_gateway.application.errors import FormInvalid, IdempotencyKeyReused
from yiwang_gateway.application.schemas import ApplicationReceipt
from yiwang_gateway.catalogue.errors import ItemNotFound
from yiwang_gateway.dependencies import GUARDS, SessionDep
from yiwang_gateway.draft.errors import DraftAlreadySubmitted, DraftNotFound
from yiwang_gateway.draft.schemas import DraftContent, DraftCreate, DraftSummary, DraftView
from yiwang_gateway.draft.service import draft_service
from yiwang_gateway.material.errors import (
    MaterialNotUploaded,
    MaterialTooLarge,
    MaterialTypeNotAllowed,
    MaterialUnknown,
)

router = APIRouter(prefix="/application-drafts", tags=["application"], dependencies=GUARDS)
DraftId = Annotated[uuid.UUID, Path(description="申请草稿 id")]
_AGENT = (NotAuthorisedAgent, AgentAuthorisationExpired, AgentBeyondAuthority)
_MATERIAL = (MaterialUnknown, MaterialNotUploaded, MaterialTypeNotAllowed, MaterialTooLarge)


@router.post(
    "",
    summary="保存申请草稿 Create an application draft",
    status_code=201,
    response_model=DraftView,
    responses=problem_responses(Unauthorized, Forbidden, *_AGENT, ItemNotFound, FormInvalid, *_MATERIAL),
)
async def create_draft(
    body: DraftCreate, acting: Annotated[Acting, acting_applicant("apply")], session: SessionDep
) -> DraftView:
    """Save what the applicant filled in so far; the item's form schema is checked on submit, not here."""
    acting.check_item(body.item_code)
    return await draft_service.create(session, principal=acting.principal, body=body)


@router.get(
    "",
    summary="我的草稿 List my drafts",
    response_model=ListResource[DraftSummary],
    responses=problem_responses(Unauthorized, Forbidden, *_AGENT),
)
async def list_drafts(
    acting: Annotated[Acting, acting_applicant("apply", "view")], session: SessionDep, page: PageQuery
) -> ListResource[DraftSummary]:
    """Return the caller's drafts not yet submitted, last saved first."""
    return await draft_service.list_open(session, principal=acting.principal, page=page)


@router.get(
    "/{draft_id}",
    summary="申请草稿 Get one of my drafts",
    response_model=DraftView,
    responses=problem_responses(Unauthorized, Forbidden, *_AGENT, DraftNotFound),
)
async def get_draft(
    draft_id: DraftId, acting: Annotated[Acting, acting_applicant("apply", "view")], session: SessionDep
) -> DraftView:
    """Return one of the caller's drafts; others' are not found."""
    return await draft_service.get(session, principal=acting.principal, draft_id=draft_id)


@router.put(
    "/{draft_id}",
    summary="更新申请草稿 Save a draft again",
    response_model=DraftView,
    responses=problem_responses(
        Unauthorized,
        Forbidden,
        *_AGENT,
        DraftNotFound,
        DraftAlreadySubmitted,
        ItemNotFound,
        FormInvalid,
        *_MATERIAL,
    ),
)
async def save_draft(
    draft_id: DraftId,
    body: DraftContent,
    acting: Annotated[Acting, acting_applicant("apply")],
    session: SessionDep,
) -> DraftView:
    """Replace the draft's form and material choices (uploads of the caller, new or earlier ones)."""
    return await draft_service.save(session, principal=acting.principal, draft_id=draft_id, body=body)


@router.post(
    "/{draft_id}/submit",
    summary="提交申请草稿 Submit a draft",
    status_code=202,
    response_model=ApplicationReceipt,
    responses=problem_responses(
        Unauthorized,
        Forbidden,
        *_AGENT,
        DraftNotFound,
        DraftAlreadySubmitted,
        ItemNotFound,
        FormInvalid,
        IdempotencyKeyReused,
        AccountNotFound,
        *_MATERIAL,
    ),
)
async def submit_draft(
    draft_id: DraftId,
    request: Request,
    acting: Annotated[Acting, acting_applicant("apply")],
    session: SessionDep,
) -> ApplicationReceipt:
    """Check the draft as ``POST /applications`` checks a submission and submit it, once; errors name each field."""
    acting.check_item(
        (await draft_service.get(session, principal=acting.principal, draft_id=draft_id)).item_code
    )
    return await draft_service.submit(
        session,
        principal=acting.principal,
        draft_id=draft_id,
        source=request.app.state.runtime.source,
        agent=acting.agent,
    )
