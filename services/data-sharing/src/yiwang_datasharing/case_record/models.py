"""ORM of the case library (办件信息库): case records, process steps, exchange log."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, SmallInteger, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_common.db import JSONType, TZDateTime, utcnow
from yiwang_datasharing.db import Base

_SEQ = BigInteger()


class CaseRecord(Base):
    """办件 Case record, mirrored from the gateway, management and business events.

    Keyed by the application id because the gateway's event knows no 办件编号 yet.
    ``status_rank``/``status_at`` let an upsert keep the most advanced, then the latest, status.
    """

    __tablename__ = "case_record"

    application_id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    case_no: Mapped[str | None] = mapped_column(String(32), unique=True)
    applicant_id: Mapped[str | None] = mapped_column(String(64), index=True)
    applicant: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    item_code: Mapped[str | None] = mapped_column(String(64), index=True)
    item_name: Mapped[str | None] = mapped_column(String(255))
    form: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    materials: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    materials_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    supplemented_materials: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(32))
    status_rank: Mapped[int] = mapped_column(SmallInteger)
    status_at: Mapped[datetime] = mapped_column(TZDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    registered_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    rejected_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    due_date: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(16))
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    licence_identifier: Mapped[str | None] = mapped_column(String(128))
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    completed_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class ProcessStep(Base):
    """办理环节 Process step (GB/T 39046 Table 7), from whichever event carried it first."""

    __tablename__ = "process_step"
    # One event may carry several steps (CaseDecided.steps), so the event id cannot be the key;
    # a step is the same step when case, key and end time agree.
    __table_args__ = (UniqueConstraint("case_no", "step_key", "ended_at"),)

    id: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=True)
    case_no: Mapped[str] = mapped_column(String(32))
    step_key: Mapped[str] = mapped_column(String(64))
    step_name: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(16))
    handler_id: Mapped[str] = mapped_column(String(64))
    handler_name: Mapped[str] = mapped_column(String(100))
    opinion: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(TZDateTime())
    ended_at: Mapped[datetime] = mapped_column(TZDateTime())
    org: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(1), default="2")
    source_event_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class ExchangeLog(Base):
    """交换记录 Exchange record (ARC-01): one row per event this platform received."""

    __tablename__ = "exchange_log"

    event_id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(255))
    case_no: Mapped[str | None] = mapped_column(String(32), index=True)
    event_time: Mapped[datetime] = mapped_column(TZDateTime())
    received_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
