"""Rendering of cases and tasks for the API."""

from __future__ import annotations

from collections.abc import Sequence

from yiwang_business.decision.models import Decision
from yiwang_business.decision.service import to_document
from yiwang_business.licence.models import ELicence
from yiwang_business.licence.service import to_value
from yiwang_business.task.models import BusinessCase, CaseLog, Task
from yiwang_business.task.schemas import CaseFacts, CaseLogEntry, CaseView, TaskSchema
from yiwang_business.workflow.schemas import SPECIAL_PROCEDURE_NAMES
from yiwang_common.contracts.common import Organisation


def task_schema(task: Task, case: BusinessCase) -> TaskSchema:
    """Render a task with the case facts a work list shows."""
    return TaskSchema(
        id=task.id,
        case_no=task.case_no,
        item_code=case.item_code,
        item_name=case.item_name,
        applicant_name=case.applicant_name,
        step_key=task.step_key,
        step_name=task.step_name,
        role=task.role,
        status=task.status,
        due_date=case.due_date,
        created_at=task.created_at,
        completed_at=task.completed_at,
        handler_name=task.handler_name,
        decision=task.decision,
        opinion=task.opinion,
        kind=task.kind,
        step_due_date=task.due_date,
        lead_task_id=task.lead_task_id,
        reminders=task.reminders or 0,
    )


#: 暂停原因 Names of the reasons a clock stands still.
PAUSE_NAMES = {"suspended": "挂起", "with_applicant": "退回补正", **SPECIAL_PROCEDURE_NAMES}


def pause_name(kind: str) -> str:
    """The Chinese name of a pause kind."""
    return PAUSE_NAMES.get(kind, kind)


def case_facts(case: BusinessCase) -> CaseFacts:
    """Render what the handler judges: applicant, form, materials."""
    return CaseFacts.model_validate(
        {
            "applicant": case.applicant,
            "org": Organisation(name=case.org_name, code=case.org_code),
            "form": case.form,
            "materials": case.materials,
            "accepted_at": case.accepted_at,
        }
    )


def build_case_view(
    case: BusinessCase,
    tasks: Sequence[Task],
    decision: Decision | None,
    licence: ELicence | None,
    log: Sequence[CaseLog] = (),
) -> CaseView:
    """Render a case with its tasks, decision and licence."""
    return CaseView(
        case_no=case.case_no,
        application_id=case.application_id,
        item_code=case.item_code,
        item_name=case.item_name,
        status=case.status,
        outcome=case.outcome,
        clock=case.clock,
        pause_reason=case.pause_reason,
        paused_days=case.paused_days or 0,
        due_date=case.due_date,
        workflow_version=int(case.workflow.get("version", 0)),
        facts=case_facts(case),
        tasks=[task_schema(t, case) for t in tasks],
        log=[
            CaseLogEntry(
                action=e.action,
                task_id=e.task_id,
                actor_name=e.actor_name,
                reason=e.reason,
                detail=e.detail,
                at=e.at,
            )
            for e in log
        ],
        decision=None if decision is None else to_document(decision),
        licence=None if licence is None else to_value(licence),
    )
