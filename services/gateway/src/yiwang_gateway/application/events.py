"""Event builders of the application domain: ``ApplicationSubmitted``."""

from __future__ import annotations

from yiwang_common.contracts.common import Agent, Applicant, MaterialRef
from yiwang_common.contracts.gateway import ApplicationSubmitted
from yiwang_common.events import EventEnvelope, make_event
from yiwang_common.observability import current_correlation_id
from yiwang_gateway.application.models import Application


def submitted_event(
    app: Application,
    applicant: Applicant,
    refs: list[MaterialRef],
    *,
    source: str,
    agent: Agent | None = None,
) -> EventEnvelope:
    """申请已提交, correlated by the application id until a 办件编号 exists."""
    data = ApplicationSubmitted(
        application_id=app.id,
        item_code=app.item_code,
        applicant=applicant,
        form=app.form,
        materials=refs,
        submitted_at=app.submitted_at,
        agent=agent,
    )
    return make_event(
        data, source=source, subject=str(app.id), correlation_id=current_correlation_id() or str(app.id)
    )
