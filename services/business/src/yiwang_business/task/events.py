"""Events of handling: the CaseAccepted handler and the events this system publishes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from yiwang_business.decision.models import Decision
from yiwang_business.decision.service import to_document
from yiwang_business.licence.models import ELicence
from yiwang_business.licence.service import to_value
from yiwang_business.task.models import BusinessCase, Task
from yiwang_business.workflow.models import WorkflowMigration
from yiwang_common.contracts.business import (
    CaseClockPaused,
    CaseClockResumed,
    CaseDecided,
    CaseReturned,
    CaseStepCompleted,
    CaseWithdrawn,
    PauseKind,
    TaskReminded,
    TaskTransferred,
    WorkflowMigrated,
)
from yiwang_common.contracts.common import Organisation, StepRecord
from yiwang_common.events import EventData, EventEnvelope, make_event


def step_record(case: BusinessCase, task: Task) -> StepRecord:
    """Describe a finished task as a 办理环节; any refusal is action ``other`` with the opinion as reasons."""
    assert task.completed_at is not None
    return StepRecord(
        step_key=task.step_key,
        step_name=task.step_name,
        action="pass" if task.decision == "approve" else "other",
        handler_id=task.handler_id or "",
        handler_name=task.handler_name or "",
        opinion=task.opinion or "",
        started_at=task.created_at,
        ended_at=task.completed_at,
        org=Organisation(name=case.org_name, code=case.org_code),
        status="2",
    )


def step_completed_event(
    case: BusinessCase, task: Task, next_tasks: Sequence[Task], *, source: str
) -> EventEnvelope:
    """环节已办理: a step finished and the next ones are open (none while a join waits for other branches)."""
    data = CaseStepCompleted(
        case_no=case.case_no,
        application_id=case.application_id,
        step=step_record(case, task),
        next_step_name="、".join(t.step_name for t in next_tasks) or None,
        # 电子监察 warns per step; with parallel branches, the first branch's step and limit.
        next_step_key=next_tasks[0].step_key if next_tasks else None,
        next_step_due_date=next_tasks[0].due_date if next_tasks else None,
    )
    return make_event(data, source=source, subject=case.case_no, correlation_id=case.case_no)


def case_decided_event(
    case: BusinessCase, tasks: Sequence[Task], decision: Decision, licence: ELicence | None, *, source: str
) -> EventEnvelope:
    """已作出决定: every step this system handled, the 决定书 and, on approval, the licence."""
    data = CaseDecided(
        case_no=case.case_no,
        application_id=case.application_id,
        item_code=case.item_code,
        outcome="approved" if decision.outcome == "approved" else "refused",
        decision=to_document(decision),
        licence=None if licence is None else to_value(licence),
        steps=[step_record(case, t) for t in tasks],
    )
    return make_event(data, source=source, subject=case.case_no, correlation_id=case.case_no)


def _event(case_no: str, data: EventData, source: str) -> EventEnvelope:
    return make_event(data, source=source, subject=case_no, correlation_id=case_no)


def case_returned_event(
    case: BusinessCase, task: Task, to_step_name: str | None, reason: str, handler: str, *, source: str
) -> EventEnvelope:
    """已退回: to an earlier step, or (no step name) to the applicant."""
    data = CaseReturned(
        case_no=case.case_no,
        application_id=case.application_id,
        from_step_name=task.step_name,
        to_step_name=to_step_name,
        to_applicant=to_step_name is None,
        reason=reason,
        handler_name=handler,
    )
    return _event(case.case_no, data, source)


def clock_paused_event(case: BusinessCase, kind: PauseKind, kind_name: str, *, source: str) -> EventEnvelope:
    """计时暂停; the applicant is told of everything but an internal 挂起."""
    assert case.paused_at is not None
    data = CaseClockPaused(
        case_no=case.case_no,
        application_id=case.application_id,
        kind=kind,
        kind_name=kind_name,
        reason=case.pause_reason or "",
        notify_applicant=kind != "suspended",
        paused_at=case.paused_at,
    )
    return _event(case.case_no, data, source)


def clock_resumed_event(
    case: BusinessCase, kind: PauseKind, reason: str, days: int, now: datetime, *, source: str
) -> EventEnvelope:
    """计时恢复 with the moved due date."""
    data = CaseClockResumed(
        case_no=case.case_no,
        application_id=case.application_id,
        kind=kind,
        reason=reason,
        paused_working_days=days,
        due_date=case.due_date,
        resumed_at=now,
    )
    return _event(case.case_no, data, source)


def task_transferred_event(
    task: Task, from_role: str, from_org: str, reason: str, handler: str, *, source: str
) -> EventEnvelope:
    """已转办."""
    data = TaskTransferred(
        case_no=task.case_no,
        task_id=task.id,
        step_name=task.step_name,
        from_role=from_role,
        from_org_code=from_org,
        to_role=task.role,
        to_org_code=task.org_code,
        reason=reason,
        handler_name=handler,
    )
    return _event(task.case_no, data, source)


def task_reminded_event(
    task: Task, message: str, *, escalate: bool, by_timer: bool, source: str
) -> EventEnvelope:
    """已催办, by someone or by the step's timer."""
    data = TaskReminded(
        case_no=task.case_no,
        task_id=task.id,
        step_name=task.step_name,
        role=task.role,
        org_code=task.org_code,
        due_date=task.due_date,
        escalate=escalate,
        by_timer=by_timer,
        message=message,
        reminders=task.reminders,
    )
    return _event(task.case_no, data, source)


def case_withdrawn_event(case: BusinessCase, reason: str, now: datetime, *, source: str) -> EventEnvelope:
    """已撤回 by the applicant."""
    data = CaseWithdrawn(
        case_no=case.case_no, application_id=case.application_id, reason=reason, withdrawn_at=now
    )
    return _event(case.case_no, data, source)


def workflow_migrated_event(migration: WorkflowMigration, *, source: str) -> EventEnvelope:
    """流程版本迁移 (logged)."""
    data = WorkflowMigrated(
        migration_id=migration.id,
        item_code=migration.item_code,
        from_version=migration.from_version,
        to_version=migration.to_version,
        case_nos=list(migration.case_nos),
        reason=migration.reason,
        actor_name=migration.actor_name,
    )
    return make_event(data, source=source, subject=migration.item_code, correlation_id=str(migration.id))
