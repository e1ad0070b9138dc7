"""Rendering of cases and tasks for the API."""

from __future__ import annotations

from collections.abc import Sequence

from yiwang_business.decision.models import Decision
from yiwang_business.decision.service import to_document
from yiwang_business.licence.models import ELicence
from yiwang_business.licence.service import to_value
from yiwang_business.task.models import BusinessCase, Task
from yiwang_business.task.schemas import CaseFacts, CaseView, TaskSchema
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
    )


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
    case: BusinessCase, tasks: Sequence[Task], decision: Decision | None, licence: ELicence | None
) -> CaseView:
    """Render a case with its tasks, decision and licence."""
    return CaseView(
        case_no=case.case_no,
        application_id=case.application_id,
        item_code=case.item_code,
        item_name=case.item_name,
        status=case.status,
        outcome=case.outcome,
        due_date=case.due_date,
        workflow_version=int(case.workflow.get("version", 0)),
        facts=case_facts(case),
        tasks=[task_schema(t, case) for t in tasks],
        decision=None if decision is None else to_document(decision),
        licence=None if licence is None else to_value(licence),
    )
