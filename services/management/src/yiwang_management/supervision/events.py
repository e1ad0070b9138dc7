"""Outgoing events of e-supervision: builders of envelopes, nothing else.

Warnings are built in SQL by the sweep (``repository._ENVELOPE_SQL``) in the same shape as
``CaseSupervisionWarned``; the events here are the ones raised one case at a time.
"""

from __future__ import annotations

from yiwang_common.contracts.management import CaseDeemedApproved, CaseUrged
from yiwang_common.events import EventEnvelope, make_event


def urged_event(data: CaseUrged, *, source: str) -> EventEnvelope:
    """催办 / 督办."""
    return make_event(data, source=source, subject=data.case_no, correlation_id=data.case_no)


def deemed_event(data: CaseDeemedApproved, *, source: str) -> EventEnvelope:
    """承诺超时默认."""
    return make_event(data, source=source, subject=data.case_no, correlation_id=data.case_no)
