"""Outgoing events of the organisation domain: builders of envelopes, nothing else."""

from __future__ import annotations

from collections.abc import Sequence

from yiwang_common.contracts.common import StaffPost
from yiwang_common.contracts.management import StaffAssigned
from yiwang_common.db import utcnow
from yiwang_common.events import EventEnvelope, make_event
from yiwang_management.organisation.models import Department, Post, StaffMember


def staff_assigned(
    member: StaffMember, department: Department, posts: Sequence[Post], *, changed_by: str, source: str
) -> EventEnvelope:
    """工作人员岗位已变更, for the gateway to set the staff account's roles, unit and region."""
    data = StaffAssigned(
        staff_id=member.id,
        username=member.username,
        name=member.name,
        org_code=department.org_code,
        org_name=department.name,
        region_code=department.region_code,
        roles=sorted({role for post in posts for role in post.roles}) if member.active else [],
        posts=[
            StaffPost(post_id=str(p.id), code=p.code, name=p.name, kind=p.kind, roles=list(p.roles))
            for p in posts
        ],
        active=member.active,
        version=member.version,
        changed_at=utcnow(),
        changed_by=changed_by,
    )
    return make_event(data, source=source, subject=f"staff:{member.username}")
