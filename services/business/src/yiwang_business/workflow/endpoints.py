"""REST API of workflow definitions: ``/api/v1/workflows``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_business.auth import AdminPrincipal, StaffPrincipal
from yiwang_business.workflow.errors import InvalidWorkflow, WorkflowEditConflict
from yiwang_business.workflow.schemas import (
    ITEM_CODE_PATTERN,
    WorkflowBody,
    WorkflowDefinitionSchema,
    WorkflowList,
)
from yiwang_business.workflow.service import workflow_service
from yiwang_common.db import get_session
from yiwang_common.http import Forbidden, Unauthorized, problem_responses
from yiwang_common.http.pagination import PageQuery

router = APIRouter(prefix="/workflows", tags=["workflows"])

Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
ItemCode = Annotated[str, Path(pattern=ITEM_CODE_PATTERN, description="实施编码, or * for the default")]


@router.get(
    "",
    summary="流程定义列表 List workflow definitions",
    response_model=WorkflowList,
    responses=problem_responses(Unauthorized, Forbidden),
)
async def list_workflows(session: Session, principal: StaffPrincipal, page: PageQuery) -> WorkflowList:
    """List the stored workflow definitions; the built-in default leads while none is stored for ``*``."""
    return await workflow_service.list(session, page=page)


@router.get(
    "/{item_code}",
    summary="事项流程定义 Get an item's workflow",
    response_model=WorkflowDefinitionSchema,
    responses=problem_responses(Unauthorized, Forbidden),
)
async def get_workflow(
    session: Session, principal: StaffPrincipal, item_code: ItemCode
) -> WorkflowDefinitionSchema:
    """Return the workflow an item's cases follow: its own, else the default (``*``)."""
    return await workflow_service.effective(session, item_code=item_code)


@router.put(
    "/{item_code}",
    summary="设置流程定义 Set an item's workflow",
    response_model=WorkflowDefinitionSchema,
    responses=problem_responses(Unauthorized, Forbidden, InvalidWorkflow, WorkflowEditConflict),
)
async def put_workflow(
    session: Session, principal: AdminPrincipal, item_code: ItemCode, body: WorkflowBody
) -> WorkflowDefinitionSchema:
    """Create or replace an item's workflow; cases already accepted keep the version they started with."""
    return await workflow_service.put(session, item_code=item_code, body=body)
