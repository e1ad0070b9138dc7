"""The CloudEvents-shaped envelope every event travels in.

The envelope and the payload base live in :mod:`yiwang_contracts.envelope` (pydantic only, so a
department's system installs them without the server stack); this module adds :func:`make_event`,
which reads the current correlation and trace context.
"""

from __future__ import annotations

from yiwang_common.observability import current_correlation_id, current_traceparent
from yiwang_contracts.envelope import SUBJECT_PATTERN, EventData, EventEnvelope

__all__ = ["SUBJECT_PATTERN", "EventData", "EventEnvelope", "make_event"]


def make_event(
    data: EventData,
    *,
    source: str,
    subject: str | None = None,
    correlation_id: str | None = None,
) -> EventEnvelope:
    """Wrap a payload in an envelope, carrying the current correlation and trace context.

    Args:
        data: the payload; its class names the subject.
        source: the producing service as a URI reference, e.g. ``urn:yiwang:530428:gateway``.
        subject: the aggregate id (CloudEvents ``subject``).
        correlation_id: the 办件编号 or request correlation id; defaults to the current one.

    Returns:
        A new envelope with a fresh UUID.
    """
    return EventEnvelope(
        source=source,
        type=data.event_type(),
        subject=subject,
        correlationid=correlation_id or current_correlation_id(),
        traceparent=current_traceparent(),
        data=data.model_dump(mode="json"),
    )
