"""Builders of the case events management publishes (the consumed ones are in ``handlers.py``).

Registration and completion build their events inline, from the values their prebuilt
statements wrote; the window actions build theirs here.
"""

from __future__ import annotations

from yiwang_common.contracts.common import Applicant, MaterialRef, MissingMaterial, Organisation, StepRecord
from yiwang_common.contracts.management import (
    CaseAccepted,
    CaseAcceptedWithMaterialsOwed,
    CaseRejected,
    CaseSupplementRequested,
)
from yiwang_common.events import EventData, EventEnvelope, make_event
from yiwang_management.case.kinds import IntakeRules
from yiwang_management.case.models import Case
from yiwang_management.case.repository import AnyCase
from yiwang_management.case.schemas import StepLike


def _envelope(data: EventData, case: AnyCase, source: str) -> EventEnvelope:
    return make_event(data, source=source, subject=case.case_no, correlation_id=case.case_no)


def _materials(case: AnyCase) -> list[MaterialRef]:
    return [MaterialRef.model_validate(m) for m in case.materials]


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


def accepted_event(case: AnyCase, step: StepRecord, *, source: str) -> EventEnvelope:
    """``CaseAccepted``: everything the business system needs to start handling."""
    assert case.acceptance_notice_no and case.clock_start and case.due_date and case.statutory_due_date
    rules = IntakeRules.load(case.intake_rules)
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
        accepted_at=case.accepted_at or step.ended_at,
        clock_start=case.clock_start,
        promised_limit_days=case.promised_limit_days,
        due_date=case.due_date,
        statutory_due_date=case.statutory_due_date,
        step=step,
        case_kind=case.case_kind,
        co_handling_orgs=list(rules.co_handling_orgs) or None,
        decision_org=rules.decision_org,
    )
    return _envelope(data, case, source)


def materials_owed_event(case: AnyCase, step: StepRecord, *, source: str) -> EventEnvelope:
    """``CaseAcceptedWithMaterialsOwed``: 容缺受理, what is owed and by when."""
    assert case.acceptance_notice_no and case.pending_materials and case.pending_due_date
    data = CaseAcceptedWithMaterialsOwed(
        case_no=case.case_no,
        application_id=case.application_id,
        applicant_id=case.applicant_id,
        acceptance_notice_no=case.acceptance_notice_no,
        pending_materials=[MissingMaterial.model_validate(m) for m in case.pending_materials],
        supply_by=case.pending_due_date,
        handler_name=step.handler_name,
        accepted_at=step.ended_at,
        case_kind=case.case_kind,
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
        case_kind=case.case_kind,
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
