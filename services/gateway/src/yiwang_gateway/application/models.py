"""申请 Application and 办理时间线 timeline ORM models."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_common.db import JSONType, TZDateTime, utcnow
from yiwang_gateway.db import Base


class Application(Base):
    """申请 Application, and the applicant's projection of the case it became (办件)."""

    __tablename__ = "application"
    __table_args__ = (
        UniqueConstraint("applicant_id", "idempotency_key"),
        # "My applications", newest first.
        Index("ix_application_applicant_id_submitted_at", "applicant_id", "submitted_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    applicant_id: Mapped[str] = mapped_column(String(64))
    applicant: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # 经办人 who acted for a legal-person applicant (contracts.common.Agent); None when the
    # applicant acted in person.
    agent: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    item_code: Mapped[str] = mapped_column(String(64))
    item_name: Mapped[str] = mapped_column(String(200))
    form: Mapped[dict[str, Any]] = mapped_column(JSONType)
    materials: Mapped[list[Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(32))
    # Time of the event that set ``status``: the projection orders the 待受理 ⇄ 待补正 loop by it.
    status_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    case_no: Mapped[str | None] = mapped_column(String(32), unique=True)
    submitted_at: Mapped[datetime] = mapped_column(TZDateTime())
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    missing_materials: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    due_date: Mapped[date | None] = mapped_column(Date())
    outcome: Mapped[str | None] = mapped_column(String(16))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    steps: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    on_time: Mapped[bool | None] = mapped_column(Boolean())
    # From business's events (ADR 0115): why the clock stands still (with_applicant = 退回补正,
    # suspended 挂起, a 特殊程序), and when the applicant withdrew (撤回). Empty: running / not withdrawn.
    clock: Mapped[str | None] = mapped_column(String(32))
    withdrawn_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    # 联办分件 (ADR 0121): a joint case's parts, one per department, each with its own state and
    # the time of the event that set it; None for an ordinary case.
    joint_parts: Mapped[list[Any] | None] = mapped_column(JSONType)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class TimelineEntry(Base):
    """办理时间线 One line of what happened to an application, in the applicant's words."""

    __tablename__ = "timeline_entry"
    __table_args__ = (Index("ix_timeline_entry_application_id_seq", "application_id", "seq"),)

    # Shown in insertion order, which is event order: producers' clocks may disagree slightly.
    seq: Mapped[int] = mapped_column(BigInteger(), primary_key=True, autoincrement=True)
    application_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("application.id", ondelete="CASCADE")
    )
    at: Mapped[datetime] = mapped_column(TZDateTime())
    title: Mapped[str] = mapped_column(String(100))
    detail: Mapped[str | None] = mapped_column(Text())
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # The event that produced the entry; unique so a replay cannot add it twice.
    source_event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), unique=True)
