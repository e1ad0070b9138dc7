"""REST API of handling: ``/api/v1/tasks`` and ``/api/v1/cases``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_business.auth import StaffPrincipal
from yiwang_business.licence.errors import LicenceNotIssuable
from yiwang_business.task.errors import CaseNotFound, TaskNotFound, TaskNotOpen, TaskRoleForbidden
from yiwang_business.task.schemas import CaseView, TaskComplete, TaskCompletion, TaskDetail, TaskList
from yiwang_business.task.service import Origin, task_service
from yiwang_common.access import AccessReason, ReasonRequired
from yiwang_common.db import get_session
from yiwang_common.http import Forbidden, Unauthorized, problem_responses
from yiwang_common.http.pagination import PageQuery

router = APIRouter(prefix="/tasks", tags=["tasks"])
case_router = APIRouter(prefix="/cases", tags=["cases"])
#: Data scope for the authorisation matrix (docs/authorization-matrix.md, ADR 0105).
UNIT_REGION: dict[str, Any] = {"x-access-scope": "unit-region"}

Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
TaskId = Annotated[uuid.UUID, Path(description="待办任务 id")]


@router.get(
    "",
    openapi_extra=UNIT_REGION,
    summary="待办列表 List my unit's tasks",
    response_model=TaskList,
    responses=problem_responses(Unauthorized, Forbidden),
)
async def list_tasks(
    session: Session,
    principal: StaffPrincipal,
    page: PageQuery,
    status: Annotated[Literal["open", "done"], Query(description="open 待办 / done 已办")] = "open",
) -> TaskList:
    """List tasks of the caller's unit for the posts the caller holds, oldest first."""
    return await task_service.list(session, principal=principal, status=status, page=page)


@router.get(
    "/{task_id}",
    openapi_extra=UNIT_REGION,
    summary="待办详情 Get a task",
    response_model=TaskDetail,
    responses=problem_responses(Unauthorized, Forbidden, TaskNotFound),
)
async def get_task(session: Session, principal: StaffPrincipal, task_id: TaskId) -> TaskDetail:
    """Return a task with the applicant, form and materials of its case."""
    return await task_service.get(session, task_id=task_id, principal=principal)


@router.post(
    "/{task_id}/complete",
    openapi_extra=UNIT_REGION,
    summary="办理环节 Complete a task",
    response_model=TaskCompletion,
    responses=problem_responses(
        Unauthorized, TaskRoleForbidden, TaskNotFound, TaskNotOpen, LicenceNotIssuable
    ),
)
async def complete_task(
    request: Request, session: Session, principal: StaffPrincipal, task_id: TaskId, body: TaskComplete
) -> TaskCompletion:
    """Record the decision on a step; the 决定 step issues the 决定书 and, on approval, the e-licence."""
    origin = Origin(
        source=request.app.state.runtime.source, region_code=request.app.state.settings.platform.region_code
    )
    return await task_service.complete(
        session, task_id=task_id, principal=principal, body=body, origin=origin
    )


@case_router.get(
    "/{case_no}",
    summary="办件详情 Get a case",
    response_model=CaseView,
    responses=problem_responses(Unauthorized, Forbidden, ReasonRequired, CaseNotFound),
)
async def get_case(
    request: Request,
    session: Session,
    principal: StaffPrincipal,
    case_no: Annotated[str, Path(pattern=r"^[0-9A-Za-z]{1,64}$", description="办件编号")],
    reason: AccessReason,
) -> CaseView:
    """Return a case the caller may read with its tasks, decision and licence; the read is audited."""
    return await task_service.case_view(
        session, case_no=case_no, principal=principal, source=request.app.state.runtime.source, reason=reason
    )
