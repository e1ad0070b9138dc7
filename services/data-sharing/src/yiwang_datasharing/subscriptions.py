"""The durable consumers of the data-sharing platform: one per producer, every case event."""

from __future__ import annotations

from yiwang_common.contracts import business, gateway, management
from yiwang_common.contracts.business import CaseDecided, CaseStepCompleted
from yiwang_common.contracts.gateway import ApplicationSubmitted, ApplicationSupplemented
from yiwang_common.contracts.management import (
    CaseAccepted,
    CaseCompleted,
    CaseRegistered,
    CaseRejected,
    CaseSupplementRequested,
    ItemPublished,
)
from yiwang_common.events import Subscription
from yiwang_datasharing.audit.handlers import on_audit_recorded
from yiwang_datasharing.case_record import events as case_events
from yiwang_datasharing.case_record.events import chain, recorded
from yiwang_datasharing.item.events import on_item_published
from yiwang_datasharing.licence.handlers import LicenceHandlers
from yiwang_datasharing.licence.service import LicenceSigner


def build_subscriptions(source: str, signer: LicenceSigner) -> list[Subscription]:
    """Subscriptions whose handlers emit events with ``source`` and sign licences with ``signer``."""
    licences = LicenceHandlers(source, signer)
    return [
        Subscription(
            durable="datasharing__gateway",
            source="gateway",
            handlers={
                ApplicationSubmitted: recorded(case_events.on_application_submitted),
                ApplicationSupplemented: recorded(case_events.on_application_supplemented),
                gateway.AuditRecorded: on_audit_recorded,
            },
        ),
        Subscription(
            durable="datasharing__management",
            source="management",
            handlers={
                ItemPublished: on_item_published,
                CaseRegistered: recorded(case_events.on_case_registered),
                CaseSupplementRequested: recorded(case_events.on_case_supplement_requested),
                CaseAccepted: recorded(case_events.on_case_accepted),
                CaseRejected: recorded(case_events.on_case_rejected),
                CaseCompleted: recorded(chain(case_events.on_case_completed, licences.on_result)),
                management.AuditRecorded: on_audit_recorded,
            },
        ),
        Subscription(
            durable="datasharing__business",
            source="business",
            handlers={
                CaseStepCompleted: recorded(case_events.on_case_step_completed),
                CaseDecided: recorded(chain(case_events.on_case_decided, licences.on_result)),
                business.AuditRecorded: on_audit_recorded,
            },
        ),
    ]
