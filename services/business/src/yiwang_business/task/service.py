"""Rules of handling: taking cases over, the work queue, completing steps and deciding."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_business.db import messaging
from yiwang_business.decision.repository import DecisionRepository
from yiwang_business.decision.service import Outcome, build_decision, decision_counter, to_document
from yiwang_business.licence.repository import LicenceRepository
from yiwang_business.licence.service import build_licence, issues_licence, licence_counter, to_value
from yiwang_business.numbering.repository import CounterRepository
from yiwang_business.task.errors import CaseNotFound, TaskNotFound, TaskNotOpen, TaskRoleForbidden
from yiwang_business.task.events import case_decided_event, step_completed_event
from yiwang_business.task.models import (
    CASE_DECIDED,
    CASE_IN_PROGRESS,
    TASK_DONE,
    TASK_OPEN,
    BusinessCase,
    Task,
)
from yiwang_business.task.repository import CaseRepository, TaskRepository
from yiwang_business.task.schemas import (
    CaseView,
    TaskComplete,
    TaskCompletion,
    TaskDetail,
    TaskList,
    TaskSchema,
)
from yiwang_business.task.views import build_case_view, case_facts, task_schema
from yiwang_business.workflow.schemas import WorkflowSnapshot, WorkflowStep
from yiwang_business.workflow.service import workflow_service
from yiwang_common.access import handling_scope, scope_of
from yiwang_common.audit import PERSONAL_DATA_READ, record_audit
from yiwang_common.auth import Principal
from yiwang_common.contracts.management import CaseAccepted
from yiwang_common.db import utcnow
from yiwang_common.events import enqueue
from yiwang_common.http.pagination import PageParams


@dataclass(frozen=True)
class Origin:
    """Who this system is, for what it issues: event ``source`` and the platform's 行政区划代码."""

    source: str
    region_code: str


def open_task(case: BusinessCase, workflow: WorkflowSnapshot, position: int) -> Task:
    """Create the task of one workflow step for the case's implementing body."""
    return new_task(case, workflow.steps[position], position)


def new_task(case: BusinessCase, step: WorkflowStep, position: int) -> Task:
    """Create the task of a step (a transient value, written by ``TaskRepository.insert``)."""
    return Task(
        id=uuid.uuid4(),
        case_no=case.case_no,
        position=position,
        step_key=step.key,
        step_name=step.name,
        role=step.role,
        kind=step.kind,
        org_code=case.org_code,
        status=TASK_OPEN,
        created_at=utcnow(),
        completed_at=None,
        handler_id=None,
        handler_name=None,
        decision=None,
        opinion=None,
    )


class TaskService:
    """Cases taken over from management and the tasks staff work on."""

    async def take_over(self, session: AsyncSession, *, accepted: CaseAccepted) -> bool:
        """Store an accepted case with its workflow snapshot and open its first task; False if already here."""
        cached = await workflow_service.cached_snapshot(session, item_code=accepted.item_code)
        case = BusinessCase(
            case_no=accepted.case_no,
            application_id=accepted.application_id,
            item_code=accepted.item_code,
            item_name=accepted.item_name,
            org_code=accepted.implementing_org.code,
            org_name=accepted.implementing_org.name,
            applicant=accepted.applicant.model_dump(mode="json"),
            form=accepted.form,
            materials=[m.model_dump(mode="json") for m in accepted.materials],
            accepted_at=accepted.accepted_at,
            due_date=accepted.due_date,
            status=CASE_IN_PROGRESS,
            outcome=None,
            workflow=cached.document,
            created_at=utcnow(),
            decided_at=None,
        )
        # One statement both checks and stores: a case already taken over is left as it is.
        if not await CaseRepository.from_session(session).insert_unless_taken(case):
            return False
        await TaskRepository.from_session(session).insert(open_task(case, cached.snapshot, 0))
        return True

    async def list(
        self, session: AsyncSession, *, principal: Principal, status: str, page: PageParams
    ) -> TaskList:
        """List the tasks of the caller's unit in their region for the posts the caller holds."""
        scope = handling_scope(principal)
        if scope.org_code is None or scope.region_prefix is None:
            return TaskList(items=[], pagination=page.pagination(0))
        rows, total = await TaskRepository.from_session(session).list_visible(
            org_code=scope.org_code,
            region_prefix=scope.region_prefix,
            roles=principal.roles,
            status=status,
            offset=page.offset,
            limit=page.limit,
        )
        items = [
            TaskSchema(
                id=r.id,
                case_no=r.case_no,
                item_code=r.item_code,
                item_name=r.item_name,
                applicant_name=str(r.applicant.get("name", "")),
                step_key=r.step_key,
                step_name=r.step_name,
                role=r.role,
                status=r.status,
                due_date=r.due_date,
                created_at=r.created_at,
                completed_at=r.completed_at,
                handler_name=r.handler_name,
                decision=r.decision,
                opinion=r.opinion,
            )
            for r in rows
        ]
        return TaskList(items=items, pagination=page.pagination(total))

    async def _visible(
        self, session: AsyncSession, *, task_id: uuid.UUID, principal: Principal, lock: bool = False
    ) -> tuple[Task, BusinessCase]:
        row = await TaskRepository.from_session(session).get_with_case(task_id, lock=lock)
        scope = handling_scope(principal)
        if row is None or not scope.admits(
            applicant_id=None, org_code=row[0].org_code, region_code=row[0].case_no[:6]
        ):
            raise TaskNotFound(f"待办任务 {task_id} 不存在")
        return row

    async def get(self, session: AsyncSession, *, task_id: uuid.UUID, principal: Principal) -> TaskDetail:
        """Return a task of the caller's unit for a post the caller holds."""
        task, case = await self._visible(session, task_id=task_id, principal=principal)
        if task.role not in principal.roles:
            raise TaskNotFound(f"待办任务 {task_id} 不存在")
        return TaskDetail(**task_schema(task, case).model_dump(), case=case_facts(case))

    async def complete(
        self,
        session: AsyncSession,
        *,
        task_id: uuid.UUID,
        principal: Principal,
        body: TaskComplete,
        origin: Origin,
    ) -> TaskCompletion:
        """Finish a step: open the next one, or — on the 决定 step — decide and issue the licence."""
        scope = handling_scope(principal)
        if scope.org_code is None or scope.region_prefix is None:
            raise TaskNotFound(f"待办任务 {task_id} 不存在")
        repo = TaskRepository.from_session(session)
        now = utcnow()
        done = await repo.complete_open(
            task_id,
            org_code=scope.org_code,
            region_prefix=scope.region_prefix,
            roles=principal.roles,
            values={
                "status": TASK_DONE,
                "completed_at": now,
                "handler_id": principal.sub,
                "handler_name": principal.name,
                "decision": body.decision,
                "opinion": body.opinion,
            },
        )
        if done is None:
            raise await self._why_not_completable(session, task_id=task_id, principal=principal)
        task, case = done
        workflow = WorkflowSnapshot.model_validate(case.workflow)
        if task.kind == "decide":
            return await self._decide(session, case=case, task=task, workflow=workflow, origin=origin)
        next_task = open_task(case, workflow, task.position + 1)
        await repo.insert(next_task)
        await enqueue(
            session, messaging.outbox, step_completed_event(case, task, next_task, source=origin.source)
        )
        return TaskCompletion(
            task=task_schema(task, case), next_task=task_schema(next_task, case), case_status=CASE_IN_PROGRESS
        )

    async def _why_not_completable(
        self, session: AsyncSession, *, task_id: uuid.UUID, principal: Principal
    ) -> Exception:
        """The error for a task that could not be completed: unknown, another post's, or already done."""
        task, _ = await self._visible(session, task_id=task_id, principal=principal)
        if task.role not in principal.roles:
            return TaskRoleForbidden(f"该环节由 {task.role} 岗位办理")
        return TaskNotOpen(f"环节「{task.step_name}」已办理")

    async def _decide(
        self,
        session: AsyncSession,
        *,
        case: BusinessCase,
        task: Task,
        workflow: WorkflowSnapshot,
        origin: Origin,
    ) -> TaskCompletion:
        assert task.completed_at is not None
        now = task.completed_at
        outcome: Outcome = "approved" if task.decision == "approve" else "refused"
        # The step list of the event: the earlier (done) steps and this one, which is the last.
        tasks = [*await TaskRepository.from_session(session).tasks_before(case.case_no, task.position), task]
        # Numbers are drawn last, in one statement: their counter rows stay locked until this unit
        # of work commits.
        with_licence = outcome == "approved" and issues_licence(workflow)
        counters = [decision_counter(case, now)]
        if with_licence:
            counters.append(licence_counter(origin.region_code, now))
        serials = await CounterRepository.from_session(session).next_values(*counters)
        decision = build_decision(
            case,
            outcome=outcome,
            opinion=task.opinion or "",
            prefix=workflow.decision_doc_prefix,
            decider_id=task.handler_id or "",
            decider_name=task.handler_name or "",
            now=now,
            serial=serials[0],
        )
        licence = None
        if with_licence:
            licence = build_licence(
                case, workflow=workflow, now=now, region_code=origin.region_code, serial=serials[1]
            )
        await DecisionRepository.from_session(session).insert(decision)
        if licence is not None:
            await LicenceRepository.from_session(session).insert(licence)
        # ``case`` is the value read by the completing UPDATE, not a tracked object: the event and
        # the answer read the decided state from it, the row is written by the prebuilt UPDATE.
        case.status, case.outcome, case.decided_at = CASE_DECIDED, outcome, now
        await CaseRepository.from_session(session).decide(
            case.case_no, {"status": CASE_DECIDED, "outcome": outcome, "decided_at": now}
        )
        await enqueue(
            session,
            messaging.outbox,
            case_decided_event(case, tasks, decision, licence, source=origin.source),
        )
        return TaskCompletion(
            task=task_schema(task, case),
            case_status=CASE_DECIDED,
            outcome=outcome,
            decision=to_document(decision),
            licence=None if licence is None else to_value(licence),
        )

    async def case_view(
        self,
        session: AsyncSession,
        *,
        case_no: str,
        principal: Principal,
        source: str,
        reason: str | None = None,
    ) -> CaseView:
        """Return a case the caller may read with its tasks, decision and licence (deny by default).

        Handling staff read their unit's cases in their region, supervisors their region's, an
        administrator their region's with a reason; each read of the applicant is audited.
        """
        scope = scope_of(principal, reason=reason)
        case = await CaseRepository.from_session(session).get(case_no)
        if case is None or not scope.admits(
            applicant_id=None, org_code=case.org_code, region_code=case_no[:6]
        ):
            raise CaseNotFound(f"办件 {case_no} 不存在")
        await record_audit(
            session,
            messaging.outbox,
            source=source,
            action=PERSONAL_DATA_READ,
            actor=principal,
            region_code=case_no[:6],
            target_type="case",
            target_id=case_no,
            reason=reason,
            detail={"org_code": case.org_code},
        )
        tasks = await TaskRepository.from_session(session).list_for_case(case_no)
        decision = (
            await DecisionRepository.from_session(session).get_for_case(case_no) if case.decided_at else None
        )
        licence = (
            await LicenceRepository.from_session(session).get_for_case(case_no)
            if case.outcome == "approved"
            else None
        )
        return build_case_view(case, tasks, decision, licence)


task_service = TaskService()
