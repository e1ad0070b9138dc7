"""Apply management's post assignments to staff accounts (the next token carries them)."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import STAFF_ROLES
from yiwang_common.contracts.management import StaffAssigned
from yiwang_common.db import utcnow
from yiwang_gateway.identity.repository import SessionRepository
from yiwang_gateway.staff.models import StaffAssignment
from yiwang_gateway.staff.repository import StaffAssignmentRepository

log = logging.getLogger(__name__)


async def apply_assignment(session: AsyncSession, data: StaffAssigned) -> bool:
    """Store a newer assignment and set the account's roles and unit; False for an older one.

    Roles outside the staff set are dropped: an event can never make a staff account an
    applicant or anything the token verifiers do not know.
    """
    repository = StaffAssignmentRepository.from_session(session)
    roles = sorted(set(data.roles) & STAFF_ROLES) if data.active else []
    windows = sorted(post.code for post in data.posts if post.kind == "window") if data.active else []
    stored = await repository.upsert_newer(
        {
            "username": data.username,
            "staff_id": data.staff_id,
            "name": data.name,
            "org_code": data.org_code,
            "org_name": data.org_name,
            "region_code": data.region_code,
            "roles": roles,
            "window_code": windows[0] if windows else None,
            "active": data.active,
            "version": data.version,
            "changed_at": data.changed_at,
        }
    )
    if not stored:
        log.info("older staff assignment ignored", extra={"username": data.username, "version": data.version})
        return False
    account_id = await repository.apply_to_account(
        data.username, roles=roles, org_code=data.org_code, active=data.active
    )
    if account_id is None:
        # Kept by user name: the account's creation (account domain) picks it up with claims_for.
        log.warning(
            "staff assignment for a user name with no staff account", extra={"username": data.username}
        )
    elif not data.active:
        # 停用 A deactivated member signs in no more, and no refresh token of theirs works: their
        # sessions end now, their access tokens within the token lifetime (ADR 0103, 0114).
        await SessionRepository.from_session(session).revoke_all(
            account_id, now=utcnow(), reason="account_deactivated"
        )
    return True


async def claims_for(session: AsyncSession, username: str) -> StaffAssignment | None:
    """The stored assignment of a staff account (roles, org_code, region_code) for its token."""
    return await StaffAssignmentRepository.from_session(session).get_by_id(username)
