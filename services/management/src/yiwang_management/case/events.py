"""Events of cases: builders of what management publishes, handlers of what it consumes."""

from __future__ import annotations

from collections.abc import Sequence

from yiwang_common.contracts.common import (
    Applicant,
    DecisionDocument,
    ELicence,
    MaterialRef,
    MissingMaterial,
    Organisation,
    StepRecord,
)
from yiwang_common.contracts.management import (
    CaseAccepted,
    CaseCompleted,
    CaseRegistered,
    CaseRejected,
    CaseSupplementRequested,
)
from yiwang_common.events import EventData, EventEnvelope, make_event
from yiwang_management.case.models import Case, CaseStep
from yiwang_management.case.schemas import StepLike


def _envelope(data: EventData, case: Case, source: str) -> EventEnvelope:
    return make_event(data, source=source, subject=case.case_no, correlation_id=case.case_no)


def _materials(case: Case) -> list[MaterialRef]:
    return [MaterialRef.model_validate(m) for m in case.materials]


def registered_event(case: Case, *, source: str) -> EventEnvelope:
    """``CaseRegistered``: the case has its 办件编号 and awaits acceptance."""
    data = CaseRegistered(
        case_no=case.case_no,
        application_id=case.application_id,
        item_code=case.item_code,
        item_name=case.item_name,
        applicant=Applicant.model_validate(case.applicant),
        form=case.form,
        materials=_materials(case),
        missing_materials=[MissingMaterial.model_validate(m) for m in case.missing_materials],
        registered_at=case.registered_at,
    )
    return _envelope(data, case, source)


def supplement_requested_event(case: Case, step: StepRecord, *, source: str) -> EventEnvelope:
    """``CaseSupplementRequested``: the one-time notice."""
    assert case.supplement_notice_no is not None and case.supplement_notice_text is not None
    data = CaseSupplementRequested(
        case_no=case.case_no,
        application_id=case.application_id,
        applicant_id=case.applicant_id,
        notice_no=case.supplement_notice_no,
        missing_materials=[MissingMaterial.model_validate(m) for m in case.missing_materials],
        notice_text=case.supplement_notice_text,
        handler_name=step.handler_name,
        issued_at=step.ended_at,
    )
    return _envelope(data, case, source)


def accepted_event(case: Case, step: StepRecord, *, source: str) -> EventEnvelope:
    """``CaseAccepted``: everything the business system needs to start handling."""
    assert case.acceptance_notice_no and case.clock_start and case.due_date and case.statutory_due_date
    data = CaseAccepted(
        case_no=case.case_no,
        application_id=case.application_id,
        item_code=case.item_code,
        item_name=case.item_name,
        implementing_org=Organisation(name=case.org_name, code=case.org_code),
        applicant=Applicant.model_validate(case.applicant),
        form=case.form,
        materials=_materials(case),
        acceptance_notice_no=case.acceptance_notice_no,
        handler_name=step.handler_name,
        accepted_at=step.ended_at,
        clock_start=case.clock_start,
        promised_limit_days=case.promised_limit_days,
        due_date=case.due_date,
        statutory_due_date=case.statutory_due_date,
        step=step,
    )
    return _envelope(data, case, source)


def rejected_event(case: Case, step: StepRecord, *, source: str) -> EventEnvelope:
    """``CaseRejected``: 不予受理 with its reason."""
    assert case.rejection_notice_no is not None
    data = CaseRejected(
        case_no=case.case_no,
        application_id=case.application_id,
        applicant_id=case.applicant_id,
        notice_no=case.rejection_notice_no,
        reason=case.rejection_reason or "",
        handler_name=step.handler_name,
        rejected_at=step.ended_at,
        step=step,
    )
    return _envelope(data, case, source)


def step_record(step: StepLike) -> StepRecord:
    """Turn a stored step back into the contract's ``StepRecord``."""
    return StepRecord.model_validate(
        {
            "step_key": step.step_key,
            "step_name": step.step_name,
            "action": step.action,
            "handler_id": step.handler_id,
            "handler_name": step.handler_name,
            "opinion": step.opinion,
            "started_at": step.started_at,
            "ended_at": step.ended_at,
            "org": {"name": step.org_name, "code": step.org_code},
            "status": step.status,
        }
    )


def completed_event(case: Case, steps: Sequence[CaseStep], *, source: str) -> EventEnvelope:
    """``CaseCompleted``: the result with every step of the case, in order."""
    assert case.decision and case.completed_at and case.due_date and case.on_time is not None
    data = CaseCompleted(
        case_no=case.case_no,
        application_id=case.application_id,
        applicant_id=case.applicant_id,
        item_code=case.item_code,
        outcome=case.outcome,
        decision=DecisionDocument.model_validate(case.decision),
        licence=ELicence.model_validate(case.licence) if case.licence else None,
        completed_at=case.completed_at,
        due_date=case.due_date,
        on_time=case.on_time,
        working_days_used=case.working_days_used or 0,
        steps=[step_record(s) for s in steps],
    )
    return _envelope(data, case, source)
