"""Events the portal (互联网政务服务门户) publishes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from yiwang_contracts.common import Agent, Applicant, AuditFields, MaterialRef
from yiwang_contracts.envelope import EventData


class ApplicationSubmitted(EventData):
    """申请已提交: an applicant submitted an online application (Figure 3-2 steps 1-3)."""

    subject = "yiwang.gateway.application.submitted.v1"

    application_id: uuid.UUID
    item_code: str = Field(description="实施编码 of the item applied for")
    applicant: Applicant
    form: dict[str, Any] = Field(description="申请表 fields as the item's form defines them")
    materials: list[MaterialRef]
    channel: Literal["online", "window", "mobile"] = Field(default="online", description="申办渠道")
    submitted_at: datetime
    # Added with agents (issue 8): who acted for a legal-person applicant; None when it acted itself.
    agent: Agent | None = Field(default=None, description="经办人 who acted for the applicant")


class ApplicationSupplemented(EventData):
    """材料已补正: the applicant handed in materials a one-time notice asked for."""

    subject = "yiwang.gateway.application.supplemented.v1"

    application_id: uuid.UUID
    case_no: str = Field(description="办件编号")
    applicant_id: str
    materials: list[MaterialRef]
    supplemented_at: datetime
    agent: Agent | None = Field(default=None, description="经办人 who handed the materials in")


class AuditRecorded(AuditFields, EventData):
    """审计事件: something the audit log (data-sharing) must keep — a sign-in, a failed one, a
    permission change, a read of personal data (ADR 0105)."""

    subject = "yiwang.gateway.audit.recorded.v1"
