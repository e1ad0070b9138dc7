"""Outgoing events of the licence domain: builders of envelopes, nothing else."""

from __future__ import annotations

from yiwang_common.contracts.datasharing import LicenceRegistered, LicenceStatusChanged
from yiwang_common.events import EventEnvelope, make_event


def licence_registered_event(data: LicenceRegistered, *, source: str) -> EventEnvelope:
    """证照已入库 event about one licence, correlated with its case."""
    case_no = data.licence.case_no
    return make_event(data, source=source, subject=case_no, correlation_id=case_no)


def licence_status_changed_event(data: LicenceStatusChanged, *, source: str) -> EventEnvelope:
    """证照状态变更 event, correlated with the case that produced the licence."""
    return make_event(data, source=source, subject=data.case_no, correlation_id=data.case_no)
