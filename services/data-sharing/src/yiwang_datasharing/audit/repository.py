"""Queries of the audit log: append and read, nothing else (the table refuses the rest)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement

from yiwang_common.db.repository import RepositoryBase
from yiwang_datasharing.audit.models import AuditEntry


class AuditRepository(RepositoryBase[AuditEntry]):
    """审计日志."""

    model = AuditEntry

    async def append(self, values: Mapping[str, Any]) -> bool:
        """Insert one entry unless its event is recorded already; True if inserted."""
        return await self.insert_unless_exists(values, conflict=["event_id"])

    async def search(
        self,
        *,
        region_prefix: str,
        action: str | None,
        actor_id: str | None,
        target_type: str | None,
        target_id: str | None,
        since: datetime | None,
        until: datetime | None,
        page: int,
        limit: int,
    ) -> tuple[Sequence[AuditEntry], int]:
        """One page of the entries of the regions under ``region_prefix``, newest first, and the total."""
        conditions: list[ColumnElement[bool]] = [
            AuditEntry.region_code.startswith(region_prefix, autoescape=True)
        ]
        if action is not None:
            conditions.append(AuditEntry.action == action)
        if actor_id is not None:
            conditions.append(AuditEntry.actor_id == actor_id)
        if target_type is not None:
            conditions.append(AuditEntry.target_type == target_type)
        if target_id is not None:
            conditions.append(AuditEntry.target_id == target_id)
        if since is not None:
            conditions.append(AuditEntry.occurred_at >= since)
        if until is not None:
            conditions.append(AuditEntry.occurred_at < until)
        statement = (
            self.get_base_statement()
            .where(*conditions)
            .order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
        )
        rows, total = await self.paginate(statement, page=page, limit=limit)
        return [row[0] for row in rows], total
