"""Rules of handling: taking cases over, the work queue, completing steps and deciding."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_business.clock import local_date, working_calendar
from yiwang_business.config import get_settings
from yiwang_business.db import column_values, messaging, transient
from yiwang_business.decision.repository import DecisionRepository
from yiwang_business.decision.service import (
    Outcome,
    build_decision,
    decision_counter,
    decision_period,
    to_document,
)
from yiwang_business.licence.repository import LicenceRepository
from yiwang_business.licence.service import build_licence, issues_licence, licence_counter, to_value
from yiwang_business.task.errors import (
    CaseClockStopped,
    CaseNotFound,
    CaseNotRunning,
    TaskNotFound,
    TaskNotOpen,
    TaskRoleForbidden,
)
from yiwang_business.task.events import case_decided_event, step_completed_event
from yiwang_business.task.known import Known, KnownTasks
from yiwang_business.task.models import (
    CASE_DECIDED,
    CASE_IN_PROGRESS,
    CASE_WITHDRAWN,
    KIND_ASSIST,
    TASK_DONE,
    TASK_OPEN,
    BusinessCase,
    CaseLog,
    Task,
)
from yiwang_business.task.repository import CaseLogRepository, CaseRepository, Completed, TaskRepository
from yiwang_business.task.schemas import (
    CaseView,
    TaskComplete,
    TaskCompletion,
    TaskDetail,
    TaskList,
    TaskSchema,
)
from yiwang_business.task.views import build_case_view, case_facts, pause_name, task_schema
from yiwang_business.workflow.engine import (
    Graph,
    JoinAhead,
    advance,
    compile_graph,
    first_steps,
    join_ahead,
    snapshot_of,
)
from yiwang_business.workflow.schemas import WorkflowSnapshot, WorkflowStep
from yiwang_business.workflow.service import workflow_service
from yiwang_common.access import ReadScope, handling_scope, scope_of
from yiwang_common.audit import PERSONAL_DATA_READ, record_audit
from yiwang_common.auth import Principal
from yiwang_common.contracts.management import CaseAccepted, CaseDeemedApproved
from yiwang_common.db import utcnow
from yiwang_common.events import outbox_row
from yiwang_common.http.pagination import PageParams


@dataclass(frozen=True)
class Origin:
    """Who this system is, for what it issues: event ``source`` and the platform's 行政区划代码."""

    source: str
    region_code: str


def new_task(
    case: BusinessCase,
    step: WorkflowStep,
    position: int,
    *,
    now: datetime,
    role: str | None = None,
    org_code: str | None = None,
    lead: Task | None = None,
) -> Task:
    """Create the task of a step (a transient value, written by ``TaskRepository.insert_many``).

    With ``lead`` it is an assisting task (协办) of that lead (主办) task, for ``role``/``org_code``.
    """
    limit = step.time_limit_days
    return transient(
        Task,
        {
            "id": uuid.uuid4(),
            "case_no": case.case_no,
            "position": position,
            "step_key": step.key,
            "step_name": step.name,
            "role": role or step.role,
            "kind": KIND_ASSIST if lead is not None else step.kind,
            "org_code": org_code or case.org_code,
            "status": TASK_OPEN,
            "created_at": now,
            "completed_at": None,
            "handler_id": None,
            "handler_name": None,
            "decision": None,
            "opinion": None,
            "due_date": None
            if limit is None
            else working_calendar().add_working_days(local_date(now), limit),
            "lead_task_id": None if lead is None else lead.id,
            "reminders": 0,
            "timer_fired_at": None,
        },
    )


def open_steps(case: BusinessCase, graph: Graph, keys: Sequence[str], now: datetime) -> list[Task]:
    """The tasks of the steps that open: each step's lead task and its assisting tasks."""
    tasks: list[Task] = []
    for key in keys:
        step = graph.step(key)
        lead = new_task(case, step, graph.positions[key], now=now)
        tasks.append(lead)
        for post in step.assists:
            tasks.append(
                new_task(
                    case, step, lead.position, now=now, role=post.role, org_code=post.org_code, lead=lead
                )
            )
    return tasks


def _leads(tasks: Sequence[Task]) -> list[Task]:
    """The lead tasks among ``tasks`` (not the assisting ones)."""
    return [t for t in tasks if t.kind != KIND_ASSIST]


def _after(graph: Graph, step_key: str) -> str:
    """The step after ``step_key`` in a linear process."""
    return graph.order[graph.positions[step_key] + 1]


def _moved_on(task: Task, case: BusinessCase, leads: Sequence[Task]) -> TaskCompletion:
    """The answer to a completion that opened ``leads`` (none while a join waits)."""
    next_tasks = [task_schema(t, case) for t in leads]
    return TaskCompletion(
        task=task_schema(task, case),
        next_task=next_tasks[0] if next_tasks else None,
        next_tasks=next_tasks,
        case_status=CASE_IN_PROGRESS,
    )


def _completed(principal: Principal, body: TaskComplete, now: datetime) -> dict[str, Any]:
    """The values a completion writes on its task."""
    return {
        "status": TASK_DONE,
        "completed_at": now,
        "handler_id": principal.sub,
        "handler_name": principal.name,
        "decision": body.decision,
        "opinion": body.opinion,
    }


#: Who closed a task that 承诺超时默认 completed (no member of staff).
DEEMED_HANDLER_ID = "deemed-approval"


class TaskService:
    """Cases taken over from management and the tasks staff work on."""

    def __init__(self) -> None:
        self._known: KnownTasks | None = None

    @property
    def known(self) -> KnownTasks:
        """The tasks this process wrote lately (sized by the settings at first use)."""
        if self._known is None:
            self._known = KnownTasks(get_settings().known_tasks)
        return self._known

    async def take_over(self, session: AsyncSession, *, accepted: CaseAccepted) -> list[Task] | None:
        """Store an accepted case with its workflow snapshot and open its first tasks (None if already here)."""
        cached = await workflow_service.cached_snapshot(session, item_code=accepted.item_code)
        now = utcnow()
        case = transient(
            BusinessCase,
            {
                "case_no": accepted.case_no,
                "application_id": accepted.application_id,
                "item_code": accepted.item_code,
                "item_name": accepted.item_name,
                "org_code": accepted.implementing_org.code,
                "org_name": accepted.implementing_org.name,
                "applicant": accepted.applicant.model_dump(mode="json"),
                "form": accepted.form,
                "materials": [m.model_dump(mode="json") for m in accepted.materials],
                "accepted_at": accepted.accepted_at,
                "due_date": accepted.due_date,
                "status": CASE_IN_PROGRESS,
                "outcome": None,
                "workflow": cached.document,
                "created_at": now,
                "decided_at": None,
                "joins": {},
                "clock": None,
                "paused_at": None,
                "pause_reason": None,
                "paused_days": 0,
            },
        )
        graph = compile_graph(cached.document)
        first = [cached.snapshot.steps[0].key] if graph.linear else await first_steps(graph, case.form)
        # One statement both checks and stores the case and its first tasks: a case already taken
        # over is left as it is.
        opened = open_steps(case, graph, first, now)
        written = await TaskRepository.from_session(session).take_over(case, opened)
        if written is None:
            return None
        if graph.linear:
            self._remember(_leads(opened), written.tasks, case, written.case_version)
        return opened

    async def close_deemed_approved(self, session: AsyncSession, *, deemed: CaseDeemedApproved) -> int | None:
        """承诺超时默认 Management approved an overrun case: its open tasks are done, the case decided.

        The decision is already issued by management (ADR 0107), so nothing is published. Returns
        the number of tasks closed, or None when the case is not running here (unknown, already
        decided or withdrawn: a redelivered or late event changes nothing).
        """
        cases = CaseRepository.from_session(session)
        case = await cases.get_for_update(deemed.case_no)
        if case is None or case.status != CASE_IN_PROGRESS:
            return None
        now = utcnow()
        tasks = TaskRepository.from_session(session)
        opened = await tasks.open_for_case(case.case_no)
        for task in opened:
            await tasks.update(
                task,
                update_dict={
                    "status": TASK_DONE,
                    "completed_at": now,
                    "handler_id": DEEMED_HANDLER_ID,
                    "handler_name": "承诺超时默认",
                    "decision": "approve",
                    "opinion": f"超过承诺办结期限（{deemed.due_date}），依承诺超时默认制视为准予。",
                },
            )
        await cases.update(
            case,
            update_dict={
                "status": CASE_DECIDED,
                "outcome": "approved",
                "decided_at": deemed.deemed_at,
                "clock": None,
                "paused_at": None,
            },
        )
        await CaseLogRepository.from_session(session).add(
            CaseLog(
                id=uuid.uuid4(),
                case_no=case.case_no,
                action="deemed_approval",
                task_id=None,
                actor_id=DEEMED_HANDLER_ID,
                actor_name="承诺超时默认",
                reason=deemed.decision.title,
                detail={"document_no": deemed.decision.document_no, "tasks": [str(t.id) for t in opened]},
                at=now,
            )
        )
        return len(opened)

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
                kind=r.kind,
                step_due_date=r.task_due_date,
                lead_task_id=r.lead_task_id,
                reminders=r.reminders,
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
        assists = (
            [] if task.kind == KIND_ASSIST else await TaskRepository.from_session(session).assists_of(task.id)
        )
        return TaskDetail(
            **task_schema(task, case).model_dump(),
            case=case_facts(case),
            assists=[task_schema(a, case) for a in assists],
        )

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
        known = self.known.take(task_id)
        if known is not None:
            completion = await self._complete_known(
                session, known, scope=scope, principal=principal, body=body, origin=origin
            )
            if completion is not None:
                return completion
        now = utcnow()
        # Should this be its case's 决定 step, the completing statement also draws the numbers:
        # the 决定书's (the case's unit, this year) and, on an approval, the 证照's.
        approving = body.decision == "approve"
        done = await repo.complete_open(
            task_id,
            org_code=scope.org_code,
            region_prefix=scope.region_prefix,
            roles=principal.roles,
            values=_completed(principal, body, now),
            decision_period=decision_period(now),
            licence=licence_counter(origin.region_code, now) if approving else None,
        )
        if done is None:
            raise await self._why_not_completable(session, task_id=task_id, principal=principal)
        task, case = done.task, done.case
        if done.serials is not None and (
            task.kind == KIND_ASSIST or compile_graph(case.workflow).step(task.step_key).kind != "decide"
        ):
            # The statement and the graph read the same snapshot; were they ever to disagree, roll
            # back rather than leave a gap in the 决定书 numbers.
            raise RuntimeError(
                f"办件 {case.case_no}: numbers drawn for 「{task.step_name}」, which does not decide"
            )
        if task.kind == KIND_ASSIST:
            # 协办: an opinion for the lead; the step moves on only when the lead completes.
            return TaskCompletion(task=task_schema(task, case), case_status=CASE_IN_PROGRESS)
        graph = compile_graph(case.workflow)
        step = graph.step(task.step_key)
        if step.assists:
            await repo.cancel_assists(task.id, now)
        if step.kind == "decide":
            workflow = snapshot_of(case.workflow)
            return await self._decide(
                session,
                case=case,
                task=task,
                workflow=workflow,
                origin=origin,
                others_open=not graph.linear,
                drawn=done,
            )
        if graph.linear:
            keys = [_after(graph, task.step_key)]
        elif (ahead := await join_ahead(graph, task.step_key, case.form)) is not None:
            # A branch into a join: count the arrival, open what is behind the join if this is the
            # last one, and write the event of the outcome found, in one statement.
            return await self._arrive(session, case=case, task=task, graph=graph, ahead=ahead, origin=origin)
        else:

            async def arrive(gateway: str, need: int) -> bool:
                return await repo.arrive(case.case_no, gateway, need)

            keys = (await advance(graph, task.step_key, case.form, arrive)).open
        opened = open_steps(case, graph, keys, now)
        leads = _leads(opened)
        # The next tasks and the event in one statement, the last write of this unit of work.
        event = step_completed_event(case, task, leads, source=origin.source)
        versions = await repo.open_and_publish(opened, outbox_row(session, event))
        if graph.linear:
            self._remember(leads, versions, case, done.case_version)
        return _moved_on(task, case, leads)

    async def _complete_known(
        self,
        session: AsyncSession,
        known: Known,
        *,
        scope: ReadScope,
        principal: Principal,
        body: TaskComplete,
        origin: Origin,
    ) -> TaskCompletion | None:
        """Complete a task of a linear process this process wrote, in one statement (ADR 0137).

        The next task and the step's event are made from the task and case as known, and written
        only if both rows are still at the known versions. None when that does not hold, or the
        step is not a plain one (决定, 协办, a step with 协办 posts, a graph), and nothing was written:
        :meth:`complete` then goes the long way, which also finds the right error.
        """
        task, case = known.task, known.case
        assert scope.org_code is not None and scope.region_prefix is not None  # checked by complete
        if task.kind == KIND_ASSIST:
            return None
        graph = compile_graph(case.workflow)
        if not graph.linear:
            return None
        step = graph.step(task.step_key)
        if step.kind == "decide" or step.assists:
            return None
        now = utcnow()
        values = _completed(principal, body, now)
        # The task as the statement leaves it: at the known versions, the rows are as known.
        finished = transient(Task, column_values(task) | values)
        opened = open_steps(case, graph, [_after(graph, task.step_key)], now)
        leads = _leads(opened)
        event = step_completed_event(case, finished, leads, source=origin.source)
        versions = await TaskRepository.from_session(session).complete_known(
            task.id,
            task_version=known.task_version,
            case_version=known.case_version,
            org_code=scope.org_code,
            region_prefix=scope.region_prefix,
            roles=principal.roles,
            values=values,
            tasks=opened,
            event=outbox_row(session, event),
        )
        if versions is None:
            return None
        self._remember(leads, versions, case, known.case_version)
        return _moved_on(finished, case, leads)

    def _remember(
        self, leads: Sequence[Task], versions: Mapping[uuid.UUID, str], case: BusinessCase, case_version: str
    ) -> None:
        """Keep the lead tasks just written (with their versions) for a one-statement completion."""
        self.known.put([(t, versions[t.id]) for t in leads], case, case_version=case_version)

    async def _arrive(
        self,
        session: AsyncSession,
        *,
        case: BusinessCase,
        task: Task,
        graph: Graph,
        ahead: JoinAhead,
        origin: Origin,
    ) -> TaskCompletion:
        assert task.completed_at is not None
        opened = open_steps(case, graph, ahead.opens, task.completed_at)
        leads = _leads(opened)
        waiting = step_completed_event(case, task, [], source=origin.source)
        # One event, described for either outcome; the statement writes the one it finds.
        last = step_completed_event(case, task, leads, source=origin.source).model_copy(
            update={"id": waiting.id, "time": waiting.time}
        )
        completed = await TaskRepository.from_session(session).arrive_and_publish(
            case.case_no,
            ahead.gateway,
            ahead.need,
            opened,
            if_last=outbox_row(session, last),
            if_waiting=outbox_row(session, waiting),
        )
        return _moved_on(task, case, leads if completed else [])

    async def _why_not_completable(
        self, session: AsyncSession, *, task_id: uuid.UUID, principal: Principal
    ) -> Exception:
        """The error for a task that could not be completed: unknown, another post's, or already done."""
        task, case = await self._visible(session, task_id=task_id, principal=principal)
        if task.role not in principal.roles:
            return TaskRoleForbidden(f"该环节由 {task.role} 岗位办理")
        if task.status == TASK_OPEN and case.status == CASE_WITHDRAWN:
            return CaseNotRunning(f"办件 {case.case_no} 已撤回")
        if task.status == TASK_OPEN and case.clock is not None:
            return CaseClockStopped(
                f"办件 {case.case_no} 计时暂停中（{pause_name(case.clock)}），恢复后才能办理"
            )
        return TaskNotOpen(f"环节「{task.step_name}」已办理")

    async def _decide(
        self,
        session: AsyncSession,
        *,
        case: BusinessCase,
        task: Task,
        workflow: WorkflowSnapshot,
        origin: Origin,
        others_open: bool = False,
        drawn: Completed | None = None,
    ) -> TaskCompletion:
        assert task.completed_at is not None
        now = task.completed_at
        outcome: Outcome = "approved" if task.decision == "approve" else "refused"
        # The step list of the event: the earlier (done) steps and this one, which is the last.
        # Branches still open elsewhere (a graph) end with the decision, in the same statement.
        with_licence = outcome == "approved" and issues_licence(workflow)
        counters = [decision_counter(case, now)]
        if with_licence:
            counters.append(licence_counter(origin.region_code, now))
        repo = TaskRepository.from_session(session)
        cancel_open_at = now if others_open else None
        if drawn is not None and drawn.serials is not None:
            # The completing statement drew the numbers (their counter rows stay locked until this
            # unit of work commits) and read the earlier steps; the open tasks close with the decision.
            if set(drawn.serials) != {name for name, _, _ in counters}:
                raise RuntimeError(f"办件 {case.case_no}: numbers drawn {sorted(drawn.serials)} ≠ {counters}")
            serials = [int(drawn.serials[name]) for name, _, _ in counters]
            tasks = [*drawn.earlier, task]
        else:
            # Numbers drawn with the read of the done steps, in one statement.
            tasks, serials = await repo.numbered_done_steps(
                case.case_no, counters, cancel_open_at=cancel_open_at
            )
            cancel_open_at = None
            if tasks[-1].id != task.id:
                # The completing UPDATE's row is read back in this transaction; keep it last either way.
                tasks = [t for t in tasks if t.id != task.id] + [task]
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
        # ``case`` is the value read by the completing UPDATE, not a tracked object: the event and
        # the answer read the decided state from it, the row is written by the prebuilt statement
        # that also writes the decision, the licence and the event (the last write of this unit).
        case.status, case.outcome, case.decided_at = CASE_DECIDED, outcome, now
        event = case_decided_event(case, tasks, decision, licence, source=origin.source)
        await repo.record_decision(
            decision,
            licence,
            case_values={"status": CASE_DECIDED, "outcome": outcome, "decided_at": now},
            event=outbox_row(session, event),
            cancel_open_at=cancel_open_at,
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
        log = await CaseLogRepository.from_session(session).for_case(case_no)
        decision = (
            await DecisionRepository.from_session(session).get_for_case(case_no) if case.decided_at else None
        )
        licence = (
            await LicenceRepository.from_session(session).get_for_case(case_no)
            if case.outcome == "approved"
            else None
        )
        return build_case_view(case, tasks, decision, licence, log)


task_service = TaskService()
