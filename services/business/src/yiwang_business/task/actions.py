"""What staff and the applicant do to a case besides completing steps.

退回 (to an earlier step or to the applicant), 转办, 催办, 挂起 / 恢复, 特殊程序, 补正, 撤回, the step
timers, and moving running cases to another version of their process. Every command is one unit of
work: it locks the case row first, so commands on one case run one after the other, and the
events it enqueues commit with it. Each is written to the case's 办理日志 (``case_log``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_business.clock import local_date, working_calendar
from yiwang_business.db import messaging
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
from yiwang_business.task.events import (
    case_returned_event,
    case_withdrawn_event,
    clock_paused_event,
    clock_resumed_event,
    task_reminded_event,
    task_transferred_event,
    workflow_migrated_event,
)
from yiwang_business.task.models import (
    CASE_IN_PROGRESS,
    CASE_WITHDRAWN,
    KIND_ASSIST,
    TASK_CANCELLED,
    TASK_OPEN,
    BusinessCase,
    CaseLog,
    Task,
)
from yiwang_business.task.repository import CaseLogRepository, CaseRepository, TaskRepository
from yiwang_business.task.schemas import (
    ActionResult,
    CorrectionBody,
    RemindBody,
    ReturnBody,
    SpecialProcedureBody,
    TransferBody,
)
from yiwang_business.task.service import open_steps
from yiwang_business.task.views import pause_name, task_schema
from yiwang_business.workflow.engine import compile_graph
from yiwang_business.workflow.errors import MigrationRefused
from yiwang_business.workflow.models import WorkflowMigration
from yiwang_business.workflow.schemas import MigrationBody, MigrationResult
from yiwang_business.workflow.service import workflow_service
from yiwang_common.auth import ROLE_ADMIN, ROLE_SUPERVISOR, Principal
from yiwang_common.contracts.business import PauseKind
from yiwang_common.contracts.management import JointPartSupplemented
from yiwang_common.db import utcnow
from yiwang_common.events import enqueue

APPLICANT = "applicant"


class CaseActions:
    """退回, 转办, 催办, 挂起/恢复, 特殊程序, 补正, 撤回, timers and version migration."""

    # --- shared -------------------------------------------------------------------------------

    async def _case(self, session: AsyncSession, case_no: str) -> BusinessCase:
        case = await CaseRepository.from_session(session).get_for_update(case_no)
        if case is None:
            raise CaseNotFound(f"办件 {case_no} 不存在")
        return case

    async def _staff_case(self, session: AsyncSession, case_no: str, principal: Principal) -> BusinessCase:
        case = await self._case(session, case_no)
        if not principal.org_code or case.org_code != principal.org_code:
            raise CaseNotFound(f"办件 {case_no} 不存在")
        return case

    async def _applicant_case(
        self, session: AsyncSession, case_no: str, principal: Principal
    ) -> BusinessCase:
        case = await self._case(session, case_no)
        if principal.is_staff or str(case.applicant.get("account_id", "")) != principal.sub:
            # Another person's case is not told apart from no case.
            raise CaseNotFound(f"办件 {case_no} 不存在")
        return case

    async def _held_task(
        self, session: AsyncSession, task_id: uuid.UUID, principal: Principal
    ) -> tuple[Task, BusinessCase]:
        """An open task the caller holds, with its running case (both locked)."""
        task = await TaskRepository.from_session(session).get_by_id(task_id)
        if task is None or not principal.org_code or task.org_code != principal.org_code:
            raise TaskNotFound(f"待办任务 {task_id} 不存在")
        case = await self._case(session, task.case_no)
        task = await TaskRepository.from_session(session).get_for_update(task_id)
        assert task is not None
        if task.role not in principal.roles:
            raise TaskRoleForbidden(f"该环节由 {task.role} 岗位办理")
        if task.status != TASK_OPEN:
            raise TaskNotOpen(f"环节「{task.step_name}」已办理")
        self._running(case)
        return task, case

    @staticmethod
    def _running(case: BusinessCase, *, clock_may_stand: bool = False) -> None:
        if case.status != CASE_IN_PROGRESS:
            raise CaseNotRunning(f"办件 {case.case_no} 已办结或已撤回")
        if case.clock is not None and not clock_may_stand:
            raise CaseClockStopped(f"办件 {case.case_no} 计时暂停中（{pause_name(case.clock)}）")

    async def _log(
        self,
        session: AsyncSession,
        case: BusinessCase,
        action: str,
        principal: Principal,
        reason: str,
        *,
        task: Task | None = None,
        now: datetime,
        **detail: Any,
    ) -> None:
        await CaseLogRepository.from_session(session).add(
            CaseLog(
                id=uuid.uuid4(),
                case_no=case.case_no,
                action=action,
                task_id=None if task is None else task.id,
                actor_id=principal.sub,
                actor_name=principal.name,
                reason=reason,
                detail=detail,
                at=now,
            )
        )

    async def _result(self, session: AsyncSession, case: BusinessCase) -> ActionResult:
        await session.flush()
        tasks = await TaskRepository.from_session(session).open_for_case(case.case_no)
        return ActionResult(
            case_no=case.case_no,
            status=cast(Any, case.status),
            clock=case.clock,
            due_date=case.due_date,
            open_tasks=[task_schema(t, case) for t in tasks],
        )

    # --- 退回 ---------------------------------------------------------------------------------

    async def return_(
        self,
        session: AsyncSession,
        *,
        task_id: uuid.UUID,
        principal: Principal,
        body: ReturnBody,
        source: str,
    ) -> ActionResult:
        """退回: to an earlier step (every open task closes, the step opens again) or to the applicant.

        To the applicant the task stays open and the clock stands still until the correction.
        """
        task, case = await self._held_task(session, task_id, principal)
        now = utcnow()
        tasks = TaskRepository.from_session(session)
        if body.to == APPLICANT:
            await self._pause(session, case, "with_applicant", body.reason, now)
            await self._log(session, case, "return_to_applicant", principal, body.reason, task=task, now=now)
            await enqueue(
                session,
                messaging.outbox,
                case_returned_event(case, task, None, body.reason, principal.name, source=source),
            )
            await enqueue(
                session,
                messaging.outbox,
                clock_paused_event(case, "with_applicant", "退回补正", source=source),
            )
            return await self._result(session, case)
        graph = compile_graph(case.workflow)
        if body.to not in graph.steps or not await tasks.has_done_step(case.case_no, body.to):
            raise InvalidReturn(
                f"只能退回到本办件已办理过的环节 (no earlier step {body.to} in this case)",
                errors=[
                    {"loc": ["body", "to"], "msg": f"{body.to} 不是已办理过的环节", "type": "invalid_return"}
                ],
            )
        await tasks.update(
            task,
            update_dict={
                "status": TASK_CANCELLED,
                "completed_at": now,
                "handler_id": principal.sub,
                "handler_name": principal.name,
                "opinion": body.reason,
            },
            flush=True,
        )
        await tasks.cancel_open(case.case_no, now)
        # A new round through the branches after the target: arrivals of the old one do not count.
        await CaseRepository.from_session(session).update(case, update_dict={"joins": {}})
        await tasks.insert_many(open_steps(case, graph, [body.to], now))
        target = graph.step(body.to)
        await self._log(session, case, "return", principal, body.reason, task=task, now=now, to=body.to)
        await enqueue(
            session,
            messaging.outbox,
            case_returned_event(case, task, target.name, body.reason, principal.name, source=source),
        )
        return await self._result(session, case)

    # --- 转办 / 催办 ---------------------------------------------------------------------------

    async def transfer(
        self,
        session: AsyncSession,
        *,
        task_id: uuid.UUID,
        principal: Principal,
        body: TransferBody,
        source: str,
    ) -> ActionResult:
        """转办: the task goes to another post and/or department; it stays the same step."""
        task, case = await self._held_task(session, task_id, principal)
        role, org = body.role or task.role, body.org_code or task.org_code
        if (role, org) == (task.role, task.org_code):
            raise InvalidTransfer(
                "转办目标与当前岗位和单位相同 (the task already has this post and department)",
                errors=[{"loc": ["body"], "msg": "role 或 org_code 必须不同", "type": "invalid_transfer"}],
            )
        from_role, from_org = task.role, task.org_code
        now = utcnow()
        await TaskRepository.from_session(session).update(task, update_dict={"role": role, "org_code": org})
        await self._log(
            session, case, "transfer", principal, body.reason, task=task, now=now, role=role, org_code=org
        )
        await enqueue(
            session,
            messaging.outbox,
            task_transferred_event(task, from_role, from_org, body.reason, principal.name, source=source),
        )
        return await self._result(session, case)

    async def remind(
        self,
        session: AsyncSession,
        *,
        task_id: uuid.UUID,
        principal: Principal,
        body: RemindBody,
        source: str,
    ) -> ActionResult:
        """催办: staff of the case's department, or supervision, remind the holders of an open task."""
        found = await TaskRepository.from_session(session).get_by_id(task_id)
        supervisor = principal.has_role(ROLE_SUPERVISOR) or principal.has_role(ROLE_ADMIN)
        if found is None:
            raise TaskNotFound(f"待办任务 {task_id} 不存在")
        case = await self._case(session, found.case_no)
        if not supervisor and principal.org_code not in (case.org_code, found.org_code):
            raise TaskNotFound(f"待办任务 {task_id} 不存在")
        task = await TaskRepository.from_session(session).get_for_update(task_id)
        assert task is not None
        if task.status != TASK_OPEN:
            raise TaskNotOpen(f"环节「{task.step_name}」已办理")
        self._running(case, clock_may_stand=True)
        now = utcnow()
        await TaskRepository.from_session(session).update(task, update_dict={"reminders": task.reminders + 1})
        await self._log(session, case, "remind", principal, body.message, task=task, now=now)
        await enqueue(
            session,
            messaging.outbox,
            task_reminded_event(task, body.message, escalate=False, by_timer=False, source=source),
        )
        return await self._result(session, case)

    async def sweep_timers(self, session: AsyncSession, *, today: date, source: str, limit: int = 500) -> int:
        """Fire the boundary timers of open steps whose limit passed before ``today``; return how many.

        Each fires once (``timer_fired_at``): a reminder (提醒) or, where the step's timer says so, an
        escalation (督办) for supervision.
        """
        tasks = TaskRepository.from_session(session)
        overdue = await tasks.overdue(today, limit)
        cases: dict[str, BusinessCase] = {}
        now = utcnow()
        for task in overdue:
            case = cases.get(task.case_no) or await CaseRepository.from_session(session).get(task.case_no)
            assert case is not None
            cases[case.case_no] = case
            step = compile_graph(case.workflow).steps.get(task.step_key)
            escalate = step is not None and step.timer is not None and step.timer.action == "escalate"
            await tasks.update(task, update_dict={"timer_fired_at": now, "reminders": task.reminders + 1})
            message = f"环节「{task.step_name}」已超过时限 {task.due_date}"
            system = Principal(sub="timer", name="定时器", kind="staff", roles=frozenset())
            await self._log(session, case, "timer", system, message, task=task, now=now, escalate=escalate)
            await enqueue(
                session,
                messaging.outbox,
                task_reminded_event(task, message, escalate=escalate, by_timer=True, source=source),
            )
        return len(overdue)

    # --- 挂起 / 特殊程序 / 恢复 / 补正 -------------------------------------------------------------

    async def _pause(
        self, session: AsyncSession, case: BusinessCase, kind: PauseKind, reason: str, now: datetime
    ) -> None:
        await CaseRepository.from_session(session).update(
            case, update_dict={"clock": kind, "paused_at": now, "pause_reason": reason}
        )

    async def _resume(
        self, session: AsyncSession, case: BusinessCase, now: datetime
    ) -> tuple[PauseKind, int]:
        """Run the clock again: the case's and the open steps' due dates move by the working days paused."""
        assert case.clock is not None and case.paused_at is not None
        kind = cast(PauseKind, case.clock)
        calendar = working_calendar()
        days = calendar.working_days_between(local_date(case.paused_at), local_date(now))
        tasks = TaskRepository.from_session(session)
        if days:
            for task in await tasks.open_for_case(case.case_no):
                if task.due_date is not None:
                    await tasks.update(
                        task, update_dict={"due_date": calendar.add_working_days(task.due_date, days)}
                    )
        await CaseRepository.from_session(session).update(
            case,
            update_dict={
                "clock": None,
                "paused_at": None,
                "pause_reason": None,
                "paused_days": (case.paused_days or 0) + days,
                "due_date": calendar.add_working_days(case.due_date, days),
            },
        )
        return kind, days

    async def suspend(
        self, session: AsyncSession, *, case_no: str, principal: Principal, reason: str, source: str
    ) -> ActionResult:
        """挂起: the clock stands still with a reason, and no step can be completed until 恢复."""
        case = await self._staff_case(session, case_no, principal)
        self._running(case)
        now = utcnow()
        await self._pause(session, case, "suspended", reason, now)
        await self._log(session, case, "suspend", principal, reason, now=now)
        await enqueue(session, messaging.outbox, clock_paused_event(case, "suspended", "挂起", source=source))
        return await self._result(session, case)

    async def special_procedure(
        self,
        session: AsyncSession,
        *,
        task_id: uuid.UUID,
        principal: Principal,
        body: SpecialProcedureBody,
        source: str,
    ) -> ActionResult:
        """特殊程序 from a step: the clock stands still and the applicant is told (the event says so)."""
        task, case = await self._held_task(session, task_id, principal)
        step = compile_graph(case.workflow).steps.get(task.step_key)
        if step is None or body.procedure not in step.special_procedures:
            raise ProcedureNotAllowed(
                f"环节「{task.step_name}」不允许{pause_name(body.procedure)}",
                errors=[
                    {"loc": ["body", "procedure"], "msg": "not allowed on this step", "type": "not_allowed"}
                ],
            )
        now = utcnow()
        await self._pause(session, case, body.procedure, body.reason, now)
        await self._log(
            session, case, "special", principal, body.reason, task=task, now=now, procedure=body.procedure
        )
        await enqueue(
            session,
            messaging.outbox,
            clock_paused_event(case, body.procedure, pause_name(body.procedure), source=source),
        )
        return await self._result(session, case)

    async def resume(
        self, session: AsyncSession, *, case_no: str, principal: Principal, reason: str, source: str
    ) -> ActionResult:
        """恢复 after 挂起 or a 特殊程序 (a correction by the applicant ends 补正 instead)."""
        case = await self._staff_case(session, case_no, principal)
        self._running(case, clock_may_stand=True)
        if case.clock is None or case.clock == "with_applicant":
            raise CaseClockRunning(
                "办件未挂起，也不在特殊程序中"
                if case.clock is None
                else "退回补正中的办件由申请人补正后恢复计时"
            )
        now = utcnow()
        kind, days = await self._resume(session, case, now)
        await self._log(session, case, "resume", principal, reason, now=now, paused=kind, days=days)
        await enqueue(
            session, messaging.outbox, clock_resumed_event(case, kind, reason, days, now, source=source)
        )
        return await self._result(session, case)

    async def correct(
        self, session: AsyncSession, *, case_no: str, principal: Principal, body: CorrectionBody, source: str
    ) -> ActionResult:
        """补正 by the applicant: the form takes the corrections, the clock runs, the step continues."""
        case = await self._applicant_case(session, case_no, principal)
        self._running(case, clock_may_stand=True)
        if case.clock != "with_applicant":
            raise CaseClockRunning("办件未退回补正 (the case is not waiting for a correction)")
        now = utcnow()
        if body.form:
            await CaseRepository.from_session(session).update(
                case, update_dict={"form": {**case.form, **body.form}}
            )
        kind, days = await self._resume(session, case, now)
        await self._log(
            session, case, "correction", principal, body.note, now=now, fields=sorted(body.form), days=days
        )
        await enqueue(
            session, messaging.outbox, clock_resumed_event(case, kind, body.note, days, now, source=source)
        )
        return await self._result(session, case)

    async def correct_joint_part(
        self, session: AsyncSession, *, data: JointPartSupplemented, source: str
    ) -> bool:
        """联办分件的补正 handed in through management (the portal or the window, ADR 0127): as the
        applicant's own correction — materials and form taken, clock running, step going on.

        Returns False, changing nothing, when the part no longer waits on the applicant (a replay, or
        a correction the applicant made here already) or the hand-in is older than the request.
        """
        case = await CaseRepository.from_session(session).get_for_update(data.part_no)
        if case is None or case.status != CASE_IN_PROGRESS or case.clock != "with_applicant":
            return False
        if case.paused_at is not None and data.supplied_at < case.paused_at:
            return False
        now = utcnow()
        supplied = {m.material_code: m.model_dump(mode="json") for m in data.materials}
        changes: dict[str, Any] = {}
        if supplied:
            kept = [m for m in case.materials if m.get("material_code") not in supplied]
            changes["materials"] = [*kept, *supplied.values()]
        if data.form:
            changes["form"] = {**case.form, **data.form}
        if changes:
            await CaseRepository.from_session(session).update(case, update_dict=changes)
        kind, days = await self._resume(session, case, now)
        await CaseLogRepository.from_session(session).add(
            CaseLog(
                id=uuid.uuid4(),
                case_no=case.case_no,
                action="correction",
                task_id=None,
                actor_id=data.by_id,
                actor_name=data.by_name,
                reason=data.note,
                detail={
                    "fields": sorted(data.form),
                    "materials": sorted(supplied),
                    "channel": data.channel,
                    "days": days,
                },
                at=now,
            )
        )
        await enqueue(
            session, messaging.outbox, clock_resumed_event(case, kind, data.note, days, now, source=source)
        )
        return True

    # --- 撤回 ---------------------------------------------------------------------------------

    async def withdraw(
        self, session: AsyncSession, *, case_no: str, principal: Principal, reason: str, source: str
    ) -> ActionResult:
        """撤回 by the applicant before the decision: every open task closes, the case ends here."""
        case = await self._applicant_case(session, case_no, principal)
        self._running(case, clock_may_stand=True)
        now = utcnow()
        await TaskRepository.from_session(session).cancel_open(case.case_no, now)
        await CaseRepository.from_session(session).update(
            case, update_dict={"status": CASE_WITHDRAWN, "clock": None, "paused_at": None}
        )
        await self._log(session, case, "withdraw", principal, reason, now=now)
        await enqueue(session, messaging.outbox, case_withdrawn_event(case, reason, now, source=source))
        return await self._result(session, case)

    # --- 版本迁移 -------------------------------------------------------------------------------

    async def migrate(
        self, session: AsyncSession, *, item_code: str, body: MigrationBody, principal: Principal, source: str
    ) -> MigrationResult:
        """Move running cases to another published version; all or nothing, logged and announced.

        Each open task's step must exist in the new version (under its own key or ``step_map``'s);
        otherwise nothing moves and the answer lists every case and step that has no counterpart.
        """
        document = await workflow_service.published_document(
            session, item_code=item_code, version=body.to_version
        )
        graph = compile_graph(document)
        cases = await CaseRepository.from_session(session).running_of_version(
            item_code, body.from_version, body.case_nos
        )
        tasks = TaskRepository.from_session(session)
        refusals: list[dict[str, Any]] = []
        if body.case_nos is not None:
            found = {c.case_no for c in cases}
            refusals += [
                {"case_no": n, "reason": f"不是版本 {body.from_version} 下办理中的办件"}
                for n in body.case_nos
                if n not in found
            ]
        plan: list[tuple[BusinessCase, Sequence[Task]]] = []
        for case in cases:
            open_tasks = await tasks.open_for_case(case.case_no)
            for t in open_tasks:
                key = body.step_map.get(t.step_key, t.step_key)
                if key not in graph.steps:
                    refusals.append(
                        {"case_no": case.case_no, "step_key": t.step_key, "reason": f"新版本中没有环节 {key}"}
                    )
            plan.append((case, open_tasks))
        if refusals:
            raise MigrationRefused(
                f"{len(refusals)} 项无法迁移，未做任何改动 (nothing was migrated)", refusals=refusals[:100]
            )
        now = utcnow()
        for case, open_tasks in plan:
            await CaseRepository.from_session(session).update(case, update_dict={"workflow": document})
            for t in open_tasks:
                step = graph.step(body.step_map.get(t.step_key, t.step_key))
                values: dict[str, Any] = {"step_key": step.key, "step_name": step.name}
                values["position"] = graph.positions[step.key]
                if t.kind != KIND_ASSIST:
                    values |= {"kind": step.kind, "role": step.role}
                await tasks.update(t, update_dict=values)
            await self._log(
                session,
                case,
                "migrate",
                principal,
                body.reason,
                now=now,
                from_version=body.from_version,
                to_version=body.to_version,
            )
        migration = WorkflowMigration(
            id=uuid.uuid4(),
            item_code=item_code,
            from_version=body.from_version,
            to_version=body.to_version,
            case_nos=[c.case_no for c, _ in plan],
            step_map=dict(body.step_map),
            reason=body.reason,
            actor_id=principal.sub,
            actor_name=principal.name,
            migrated_at=now,
        )
        await workflow_service.record_migration(session, migration)
        await enqueue(session, messaging.outbox, workflow_migrated_event(migration, source=source))
        return MigrationResult(
            id=migration.id,
            item_code=item_code,
            from_version=body.from_version,
            to_version=body.to_version,
            migrated=migration.case_nos,
            actor_name=principal.name,
            reason=body.reason,
            migrated_at=now,
        )


case_actions = CaseActions()
