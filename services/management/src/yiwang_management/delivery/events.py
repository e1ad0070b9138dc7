"""Outgoing events of delivery of results (送达): builders of envelopes, nothing else (ADR 0117).

Personal data is masked as ``yiwang_common.masking`` does everywhere: the recipient's name keeps
its first character and the phone 3 + 4; the address never leaves management (the postcode does).
"""

from __future__ import annotations

from datetime import datetime

from yiwang_common.contracts.management import (
    DeliveryArranged,
    DeliveryCompleted,
    DeliveryDispatched,
    DeliveryTrackingUpdated,
)
from yiwang_common.events import EventData, EventEnvelope, make_event
from yiwang_common.masking import mask_mobile, mask_person_name
from yiwang_management.delivery.models import CaseDelivery, courier_name


def _envelope(data: EventData, case_no: str, *, source: str) -> EventEnvelope:
    return make_event(data, source=source, subject=case_no, correlation_id=case_no)


def _ids(case: object) -> dict[str, object]:
    return {k: getattr(case, k) for k in ("case_no", "application_id", "applicant_id")}


def arranged_event(
    case: object, delivery: CaseDelivery, *, at: datetime, by: str, source: str
) -> EventEnvelope:
    """送达方式已选择."""
    data = DeliveryArranged.model_validate(
        _ids(case)
        | {
            "method": delivery.method,
            "recipient_name": mask_person_name(delivery.recipient_name),
            "recipient_phone": mask_mobile(delivery.recipient_phone),
            "postcode": delivery.postcode,
            "arranged_at": at,
            "arranged_by": by[:100],
        }
    )
    return _envelope(data, delivery.case_no, source=source)


def dispatched_event(case: object, delivery: CaseDelivery, *, source: str) -> EventEnvelope:
    """已寄出, with the courier and its tracking number."""
    assert delivery.courier and delivery.tracking_no and delivery.dispatched_at
    data = DeliveryDispatched.model_validate(
        _ids(case)
        | {
            "courier": delivery.courier,
            "courier_name": courier_name(delivery.courier),
            "tracking_no": delivery.tracking_no,
            "dispatched_at": delivery.dispatched_at,
            "due_date": delivery.due_date,
        }
    )
    return _envelope(data, delivery.case_no, source=source)


def tracking_event(
    case: object, delivery: CaseDelivery, *, kind: str, description: str, at: datetime, source: str
) -> EventEnvelope:
    """物流轨迹 (运输中 / 派送中)."""
    data = DeliveryTrackingUpdated.model_validate(
        _ids(case) | {"kind": kind, "description": description, "tracking_no": delivery.tracking_no, "at": at}
    )
    return _envelope(data, delivery.case_no, source=source)


def delivered_event(case: object, delivery: CaseDelivery, *, kind: str, source: str) -> EventEnvelope:
    """已送达 (signed for) / 已领取 (collected at the window)."""
    assert delivery.delivered_at is not None
    data = DeliveryCompleted.model_validate(
        _ids(case)
        | {
            "method": delivery.method,
            "kind": kind,
            "tracking_no": delivery.tracking_no,
            "delivered_at": delivery.delivered_at,
            "due_date": delivery.due_date,
            "on_time": bool(delivery.on_time),
        }
    )
    return _envelope(data, delivery.case_no, source=source)
