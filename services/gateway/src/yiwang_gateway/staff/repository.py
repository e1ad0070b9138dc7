"""Queries of staff assignments, and the one write they make to staff accounts."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert

from yiwang_common.db.repository import RepositoryBase
from yiwang_gateway.account.models import Account
from yiwang_gateway.staff.models import StaffAssignment


class StaffAssignmentRepository(RepositoryBase[StaffAssignment]):
    """岗位分配."""

    model = StaffAssignment

    async def upsert_newer(self, values: Mapping[str, Any]) -> bool:
        """Store the assignment unless a newer (or the same) version is stored; True if stored."""
        row = insert(StaffAssignment).values(**values)
        upsert = row.on_conflict_do_update(
            index_elements=[StaffAssignment.username],
            set_={k: row.excluded[k] for k in values if k != "username"},
            where=StaffAssignment.version < row.excluded.version,
        ).returning(StaffAssignment.username)
        return (await self.execute(upsert)).first() is not None

    async def apply_to_account(
        self, username: str, *, roles: list[str], org_code: str, active: bool
    ) -> uuid.UUID | None:
        """Give the staff account of ``username`` these roles, unit and state; its id, or None."""
        statement = (
            update(Account)
            .where(Account.username == username, Account.kind == "staff")
            .values(roles=roles, org_code=org_code, active=active)
            .returning(Account.id)
        )
        row = (await self.execute(statement)).first()
        return None if row is None else uuid.UUID(str(row[0]))
