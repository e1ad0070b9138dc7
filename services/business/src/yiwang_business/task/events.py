"""Events of handling: the CaseAccepted handler and the events this system publishes."""

from __future__ import annotations

from collections.abc import Sequence

from yiwang_business.decision.models import Decision
from yiwang_business.decision.service import to_document
from yiwang_business.licence.models import ELicence
from yiwang_business.licence.service import to_value
from yiwang_business.task.models import BusinessCase, Task
from yiwang_common.contracts.business import CaseDecided, CaseStepCompleted
from yiwang_common.contracts.common import Organisation, StepRecord
from yiwang_common.events import EventEnvelope, make_event


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


def step_completed_event(case: BusinessCase, task: Task, next_task: Task, *, source: str) -> EventEnvelope:
    """环节已办理: a step finished and the next one is open."""
    data = CaseStepCompleted(
        case_no=case.case_no,
        application_id=case.application_id,
        step=step_record(case, task),
        next_step_name=next_task.step_name,
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
