"""审计记录 Audit entry ORM model: append-only (a trigger refuses UPDATE, DELETE and TRUNCATE)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_common.db import JSONType, TZDateTime
from yiwang_datasharing.db import Base


class AuditEntry(Base):
    """审计记录 Who did what, when, why — one row per audit event, never changed or removed."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_region_code_occurred_at", "region_code", "occurred_at"),)

    id: Mapped[int] = mapped_column(BigInteger(), primary_key=True, autoincrement=True)
    # The event id of the report (or a fresh one for data-sharing's own reads): replays insert nothing.
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid(), unique=True)
    service: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(200))
    actor_kind: Mapped[str | None] = mapped_column(String(20))
    actor_org_code: Mapped[str | None] = mapped_column(String(18))
    actor_roles: Mapped[list[Any]] = mapped_column(JSONType)
    region_code: Mapped[str] = mapped_column(String(12))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType)
    occurred_at: Mapped[datetime] = mapped_column(TZDateTime())
    recorded_at: Mapped[datetime] = mapped_column(TZDateTime())
