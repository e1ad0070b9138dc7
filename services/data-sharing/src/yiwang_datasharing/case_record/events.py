"""Handlers that project every case event into the case library, in whatever order they arrive."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.contracts.business import CaseDecided, CaseStepCompleted
from yiwang_common.contracts.common import MaterialRef, StepRecord
from yiwang_common.contracts.gateway import ApplicationSubmitted, ApplicationSupplemented
from yiwang_common.contracts.management import (
    CaseAccepted,
    CaseCompleted,
    CaseRegistered,
    CaseRejected,
    CaseSupplementRequested,
)
from yiwang_common.db import utcnow
from yiwang_common.events import EventData, EventEnvelope, Handler
from yiwang_datasharing.case_record.repository import CaseFacts, CaseRecordRepository, Exchange

#: ``session.info`` key of the exchange-log row of the event being handled, until someone writes it.
_PENDING_EXCHANGE = "datasharing.pending_exchange"


def _materials(refs: Sequence[MaterialRef]) -> list[dict[str, Any]]:
    return [m.model_dump(mode="json") for m in refs]


async def _apply(
    session: AsyncSession,
    envelope: EventEnvelope,
    facts: CaseFacts,
    *,
    case_no: str | None = None,
    steps: Sequence[StepRecord] = (),
) -> None:
    # The exchange-log row of a recorded event rides along with the record upsert (one statement).
    exchange = session.info.pop(_PENDING_EXCHANGE, None)
    await CaseRecordRepository.from_session(session).apply(
        facts, exchange=exchange, case_no=case_no, steps=steps, event_id=envelope.id
    )


def recorded(handler: Handler) -> Handler:
    """Wrap a handler so that the event is also written to the exchange log (交换记录)."""

    async def wrapper(session: AsyncSession, envelope: EventEnvelope, data: Any) -> None:
        exchange = Exchange(
            event_id=envelope.id,
            subject=envelope.nats_subject,
            source=envelope.source,
            case_no=getattr(data, "case_no", None),
            event_time=envelope.time,
            received_at=utcnow(),
        )
        # A case handler writes it together with its own effect; anything else, on its own.
        session.info[_PENDING_EXCHANGE] = exchange
        try:
            await handler(session, envelope, data)
        finally:
            pending = session.info.pop(_PENDING_EXCHANGE, None)
        if pending is not None:
            await CaseRecordRepository.from_session(session).log_exchange(pending)

    return wrapper


def chain(*handlers: Handler) -> Handler:
    """One handler that runs several in order, in the same unit of work."""

    async def run(session: AsyncSession, envelope: EventEnvelope, data: EventData) -> None:
        for handler in handlers:
            await handler(session, envelope, data)

    return run


async def on_application_submitted(
    session: AsyncSession, envelope: EventEnvelope, data: ApplicationSubmitted
) -> None:
    """申请已提交: the record starts with the applicant, form and materials."""
    fields = {
        "applicant_id": data.applicant.account_id,
        "applicant": data.applicant.model_dump(mode="json"),
        "item_code": data.item_code,
        "form": data.form,
        "submitted_at": data.submitted_at,
    }
    facts = CaseFacts(data.application_id, "submitted", envelope.time, fields, _materials(data.materials))
    await _apply(session, envelope, facts)


async def on_application_supplemented(
    session: AsyncSession, envelope: EventEnvelope, data: ApplicationSupplemented
) -> None:
    """材料已补正: back to pending acceptance, unless something later already happened."""
    fields = {
        "case_no": data.case_no,
        "applicant_id": data.applicant_id,
        "supplemented_materials": _materials(data.materials),
    }
    await _apply(
        session, envelope, CaseFacts(data.application_id, "pending_acceptance", envelope.time, fields)
    )


async def on_case_registered(session: AsyncSession, envelope: EventEnvelope, data: CaseRegistered) -> None:
    """办件已登记: the 办件编号 is known."""
    fields = {
        "case_no": data.case_no,
        "applicant_id": data.applicant.account_id,
        "applicant": data.applicant.model_dump(mode="json"),
        "item_code": data.item_code,
        "item_name": data.item_name,
        "form": data.form or None,
        "registered_at": data.registered_at,
    }
    facts = CaseFacts(
        data.application_id, "pending_acceptance", envelope.time, fields, _materials(data.materials)
    )
    await _apply(session, envelope, facts)


async def on_case_supplement_requested(
    session: AsyncSession, envelope: EventEnvelope, data: CaseSupplementRequested
) -> None:
    """已一次性告知: the case waits for the applicant's supplement."""
    fields = {"case_no": data.case_no, "applicant_id": data.applicant_id}
    await _apply(
        session, envelope, CaseFacts(data.application_id, "awaiting_supplement", envelope.time, fields)
    )


async def on_case_accepted(session: AsyncSession, envelope: EventEnvelope, data: CaseAccepted) -> None:
    """已受理: acceptance time, due date and the full material list, plus the 受理 step."""
    fields = {
        "case_no": data.case_no,
        "applicant_id": data.applicant.account_id,
        "applicant": data.applicant.model_dump(mode="json"),
        "item_code": data.item_code,
        "item_name": data.item_name,
        "form": data.form,
        "accepted_at": data.accepted_at,
        "due_date": data.due_date,
    }
    facts = CaseFacts(data.application_id, "accepted", envelope.time, fields, _materials(data.materials))
    await _apply(session, envelope, facts, case_no=data.case_no, steps=[data.step])


async def on_case_rejected(session: AsyncSession, envelope: EventEnvelope, data: CaseRejected) -> None:
    """不予受理: terminal, with the reason and the step."""
    fields = {
        "case_no": data.case_no,
        "applicant_id": data.applicant_id,
        "rejected_at": data.rejected_at,
        "rejection_reason": data.reason,
    }
    facts = CaseFacts(data.application_id, "not_accepted", envelope.time, fields)
    await _apply(session, envelope, facts, case_no=data.case_no, steps=[data.step])


async def on_case_step_completed(
    session: AsyncSession, envelope: EventEnvelope, data: CaseStepCompleted
) -> None:
    """环节已办理: a business step; the case is at least accepted."""
    facts = CaseFacts(data.application_id, "accepted", envelope.time, {"case_no": data.case_no})
    await _apply(session, envelope, facts, case_no=data.case_no, steps=[data.step])


async def on_case_decided(session: AsyncSession, envelope: EventEnvelope, data: CaseDecided) -> None:
    """已作出决定: the result (过程和结果信息); completion itself comes from management."""
    fields = {
        "case_no": data.case_no,
        "item_code": data.item_code,
        "outcome": data.outcome,
        "decision": data.decision.model_dump(mode="json"),
        "licence_identifier": data.licence.identifier if data.licence else None,
    }
    facts = CaseFacts(data.application_id, "accepted", envelope.time, fields)
    await _apply(session, envelope, facts, case_no=data.case_no, steps=data.steps)


async def on_case_completed(session: AsyncSession, envelope: EventEnvelope, data: CaseCompleted) -> None:
    """已办结: terminal, with outcome, decision, on-time status and every step."""
    fields = {
        "case_no": data.case_no,
        "applicant_id": data.applicant_id,
        "item_code": data.item_code,
        "outcome": data.outcome,
        "decision": data.decision.model_dump(mode="json"),
        "licence_identifier": data.licence.identifier if data.licence else None,
        "completed_at": data.completed_at,
        "due_date": data.due_date,
        "on_time": data.on_time,
    }
    facts = CaseFacts(data.application_id, "completed", envelope.time, fields)
    await _apply(session, envelope, facts, case_no=data.case_no, steps=data.steps)
