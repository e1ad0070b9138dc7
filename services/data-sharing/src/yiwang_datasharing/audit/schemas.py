"""API models of the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditEntryView(BaseModel):
    """审计记录 Who (actor), what (action, target), when (occurred_at), why (reason)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    service: str = Field(examples=["management"])
    action: str = Field(examples=["personal_data_read"])
    outcome: str = Field(examples=["success"])
    actor_id: str | None
    actor_name: str
    actor_kind: str | None
    actor_org_code: str | None
    actor_roles: list[str]
    region_code: str = Field(examples=["530428"])
    target_type: str = Field(examples=["case"])
    target_id: str
    reason: str | None = Field(description="查阅事由")
    detail: dict[str, Any]
    occurred_at: datetime
    recorded_at: datetime
