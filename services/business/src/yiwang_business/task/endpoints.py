"""REST API of handling: ``/api/v1/tasks`` and ``/api/v1/cases``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_business.auth import AdminPrincipal, StaffPrincipal, SupervisorPrincipal
from yiwang_business.clock import local_date
from yiwang_business.licence.errors import LicenceNotIssuable
from yiwang_business.task.actions import case_actions
from yiwang_business.task.errors import (
    CaseClockRunning,
    CaseClockStopped,
    CaseNotFound,
    CaseNotRunning,
    InvalidReturn,
    InvalidTransfer,
    ProcedureNotAllowed,
    TaskNotFound,
    TaskNotOpen,
    TaskRoleForbidden,
)
from yiwang_business.task.schemas import (
    ActionResult,
    CaseView,
    CorrectionBody,
    PauseBody,
    RemindBody,
    ReturnBody,
    SpecialProcedureBody,
    TaskComplete,
    TaskCompletion,
    TaskDetail,
    TaskList,
    TimerSweep,
    TransferBody,
)
from yiwang_business.task.service import Origin, task_service
from yiwang_business.workflow.errors import MigrationRefused, NoBranchMatches, VersionNotFound
from yiwang_business.workflow.schemas import ITEM_CODE_PATTERN, MigrationBody, MigrationResult
from yiwang_common.access import AccessReason, ReasonRequired
from yiwang_common.auth import CurrentPrincipal
from yiwang_common.db import get_session, utcnow
from yiwang_common.http import Forbidden, Unauthorized, problem_responses
from yiwang_common.http.pagination import PageQuery

router = APIRouter(prefix="/tasks", tags=["tasks"])
case_router = APIRouter(prefix="/cases", tags=["cases"])
#: Data scope for the authorisation matrix (docs/authorization-matrix.md, ADR 0105).
UNIT_REGION: dict[str, Any] = {"x-access-scope": "unit-region"}
timer_router = APIRouter(prefix="/timers", tags=["tasks"])
#: 版本迁移 moves cases (this domain's rows) between versions of a workflow, under the workflow's path.
migration_router = APIRouter(prefix="/workflows", tags=["workflows"])

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
        Unauthorized,
        TaskRoleForbidden,
        TaskNotFound,
        TaskNotOpen,
        CaseNotRunning,
        CaseClockStopped,
        NoBranchMatches,
        LicenceNotIssuable,
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


def _source(request: Request) -> str:
    return str(request.app.state.runtime.source)


@router.post(
    "/{task_id}/return",
    summary="退回 Return to an earlier step or to the applicant",
    response_model=ActionResult,
    responses=problem_responses(
        Unauthorized,
        TaskRoleForbidden,
        TaskNotFound,
        TaskNotOpen,
        CaseNotRunning,
        CaseClockStopped,
        InvalidReturn,
    ),
)
async def return_task(
    request: Request, session: Session, principal: StaffPrincipal, task_id: TaskId, body: ReturnBody
) -> ActionResult:
    """退回: to an earlier step of this case (every open task closes and that step opens again), or
    ``to: applicant`` for a correction (补正): the task stays open and the clock stands still until the
    applicant corrects."""
    return await case_actions.return_(
        session, task_id=task_id, principal=principal, body=body, source=_source(request)
    )


@router.post(
    "/{task_id}/transfer",
    summary="转办 Hand a task to another post or department",
    response_model=ActionResult,
    responses=problem_responses(
        Unauthorized,
        TaskRoleForbidden,
        TaskNotFound,
        TaskNotOpen,
        CaseNotRunning,
        CaseClockStopped,
        InvalidTransfer,
    ),
)
async def transfer_task(
    request: Request, session: Session, principal: StaffPrincipal, task_id: TaskId, body: TransferBody
) -> ActionResult:
    """转办: the same step, now for another post and/or department; recorded and announced."""
    return await case_actions.transfer(
        session, task_id=task_id, principal=principal, body=body, source=_source(request)
    )


@router.post(
    "/{task_id}/remind",
    summary="催办 Remind the holders of a task",
    response_model=ActionResult,
    responses=problem_responses(Unauthorized, Forbidden, TaskNotFound, TaskNotOpen, CaseNotRunning),
)
async def remind_task(
    request: Request, session: Session, principal: StaffPrincipal, task_id: TaskId, body: RemindBody
) -> ActionResult:
    """催办 by staff of the case's department or by supervision: recorded and announced."""
    return await case_actions.remind(
        session, task_id=task_id, principal=principal, body=body, source=_source(request)
    )


@router.post(
    "/{task_id}/special-procedures",
    summary="特殊程序 Start a hearing, testing, expert review or on-site inspection",
    response_model=ActionResult,
    responses=problem_responses(
        Unauthorized,
        TaskRoleForbidden,
        TaskNotFound,
        TaskNotOpen,
        CaseNotRunning,
        CaseClockStopped,
        ProcedureNotAllowed,
    ),
)
async def start_special_procedure(
    request: Request, session: Session, principal: StaffPrincipal, task_id: TaskId, body: SpecialProcedureBody
) -> ActionResult:
    """特殊程序: the clock stands still (its time does not count) and the applicant is told; 恢复 ends it."""
    return await case_actions.special_procedure(
        session, task_id=task_id, principal=principal, body=body, source=_source(request)
    )


@timer_router.post(
    "/sweep",
    summary="定时器 Fire the timers of steps past their limit",
    response_model=TimerSweep,
    responses=problem_responses(Unauthorized, Forbidden),
)
async def sweep_timers(request: Request, session: Session, principal: SupervisorPrincipal) -> TimerSweep:
    """Send a reminder (提醒) or escalation (督办) for each open step whose limit passed (once per step)."""
    fired = await case_actions.sweep_timers(session, today=local_date(utcnow()), source=_source(request))
    return TimerSweep(fired=fired)


CaseNo = Annotated[str, Path(pattern=r"^[0-9A-Za-z]{1,64}$", description="办件编号")]


@case_router.post(
    "/{case_no}/suspend",
    summary="挂起 Suspend a case",
    response_model=ActionResult,
    responses=problem_responses(Unauthorized, Forbidden, CaseNotFound, CaseNotRunning, CaseClockStopped),
)
async def suspend_case(
    request: Request, session: Session, principal: StaffPrincipal, case_no: CaseNo, body: PauseBody
) -> ActionResult:
    """挂起: the clock stands still with the reason; no step can be completed until 恢复."""
    return await case_actions.suspend(
        session, case_no=case_no, principal=principal, reason=body.reason, source=_source(request)
    )


@case_router.post(
    "/{case_no}/resume",
    summary="恢复 Resume a suspended case or end a special procedure",
    response_model=ActionResult,
    responses=problem_responses(Unauthorized, Forbidden, CaseNotFound, CaseNotRunning, CaseClockRunning),
)
async def resume_case(
    request: Request, session: Session, principal: StaffPrincipal, case_no: CaseNo, body: PauseBody
) -> ActionResult:
    """恢复: the clock runs again; the case's and open steps' due dates move by the working days paused."""
    return await case_actions.resume(
        session, case_no=case_no, principal=principal, reason=body.reason, source=_source(request)
    )


@case_router.post(
    "/{case_no}/correction",
    summary="补正 The applicant's correction",
    response_model=ActionResult,
    responses=problem_responses(Unauthorized, CaseNotFound, CaseNotRunning, CaseClockRunning),
)
async def correct_case(
    request: Request, session: Session, principal: CurrentPrincipal, case_no: CaseNo, body: CorrectionBody
) -> ActionResult:
    """补正 by the applicant of a case returned for correction: the form takes the changes, the clock runs."""
    return await case_actions.correct(
        session, case_no=case_no, principal=principal, body=body, source=_source(request)
    )


@case_router.post(
    "/{case_no}/withdraw",
    summary="撤回 Withdraw by the applicant",
    response_model=ActionResult,
    responses=problem_responses(Unauthorized, CaseNotFound, CaseNotRunning),
)
async def withdraw_case(
    request: Request, session: Session, principal: CurrentPrincipal, case_no: CaseNo, body: PauseBody
) -> ActionResult:
    """撤回 by the applicant before the decision: every open step closes and the case ends."""
    return await case_actions.withdraw(
        session, case_no=case_no, principal=principal, reason=body.reason, source=_source(request)
    )


@migration_router.post(
    "/{item_code}/migrations",
    summary="版本迁移 Move running cases to another version",
    response_model=MigrationResult,
    responses=problem_responses(Unauthorized, Forbidden, VersionNotFound, MigrationRefused),
)
async def migrate_cases(
    request: Request,
    session: Session,
    principal: AdminPrincipal,
    item_code: Annotated[str, Path(pattern=ITEM_CODE_PATTERN, description="实施编码")],
    body: MigrationBody,
) -> MigrationResult:
    """Move running cases of ``from_version`` to a published version — all or nothing, logged and announced.

    Each open step maps to the new version under its own key or through ``step_map``; when one has
    no counterpart nothing moves and the answer lists every refusal.
    """
    return await case_actions.migrate(
        session, item_code=item_code, body=body, principal=principal, source=_source(request)
    )
