"""Event contracts: the payloads that cross service boundaries, one module per producer.

Each payload is an :class:`~yiwang_contracts.envelope.EventData` subclass whose ``subject`` is
``yiwang.<service>.<aggregate>.<event>.v<major>``. Within a major version only optional
fields may be added. ``docs/events/`` holds the JSON Schemas generated from these models
(``make contracts``), and a test fails when they are stale.
"""

from __future__ import annotations

from yiwang_contracts import business, datasharing, gateway, management, plugin
from yiwang_contracts.envelope import EventData

ALL_EVENTS: tuple[type[EventData], ...] = (
    gateway.ApplicationSubmitted,
    gateway.ApplicationSupplemented,
    management.ItemPublished,
    management.ItemWithdrawn,
    management.CaseRegistered,
    management.CaseSupplementRequested,
    management.CaseAccepted,
    management.CaseRejected,
    management.CaseAcceptedWithMaterialsOwed,
    management.CaseCompleted,
    management.SupervisionWarningsRaised,
    management.CaseUrged,
    management.CaseDeemedApproved,
    management.JointPartDispatched,
    management.JointCaseCompleted,
    management.JointCaseOpened,
    management.JointPartChanged,
    management.JointPartSupplemented,
    business.CaseStepCompleted,
    business.CaseDecided,
    business.CaseReturned,
    business.CaseClockPaused,
    business.CaseClockResumed,
    business.TaskTransferred,
    business.TaskReminded,
    business.CaseWithdrawn,
    business.WorkflowMigrated,
    datasharing.LicenceRegistered,
    gateway.AuditRecorded,
    management.AuditRecorded,
    management.StaffAssigned,
    business.AuditRecorded,
    datasharing.LicenceStatusChanged,
    management.PaymentOrderCreated,
    management.PaymentOrderPaid,
    management.DeliveryArranged,
    management.DeliveryDispatched,
    management.DeliveryTrackingUpdated,
    management.DeliveryCompleted,
)

__all__ = ["ALL_EVENTS", "business", "datasharing", "gateway", "management", "plugin"]
