"""Builders of the joint-approval events management publishes (the consumed ones are in ``handlers.py``)."""

from __future__ import annotations

from yiwang_common.contracts.management import (
    JointCaseCompleted,
    JointCaseOpened,
    JointPartChanged,
    JointPartDispatched,
    JointPartSupplemented,
)
from yiwang_common.events import EventEnvelope, make_event


def dispatched_event(data: JointPartDispatched, *, source: str) -> EventEnvelope:
    """``JointPartDispatched``: one department's part leaves for its system."""
    return make_event(data, source=source, subject=data.part_no, correlation_id=data.joint_no)


def supplemented_event(data: JointPartSupplemented, *, source: str) -> EventEnvelope:
    """``JointPartSupplemented``: a built-in part's 补正 goes to business, about the part like its dispatch."""
    return make_event(data, source=source, subject=data.part_no, correlation_id=data.joint_no)


def opened_event(data: JointCaseOpened, *, source: str) -> EventEnvelope:
    """``JointCaseOpened``: the one combined case the applicant follows, with its parts."""
    return make_event(data, source=source, subject=data.joint_no, correlation_id=data.joint_no)


def part_changed_event(data: JointPartChanged, *, source: str) -> EventEnvelope:
    """``JointPartChanged``: a part moved; about the joint case, so one stream subject orders its parts."""
    return make_event(data, source=source, subject=data.joint_no, correlation_id=data.joint_no)


def completed_event(data: JointCaseCompleted, *, source: str) -> EventEnvelope:
    """``JointCaseCompleted``: the combined result."""
    return make_event(data, source=source, subject=data.joint_no, correlation_id=data.joint_no)
