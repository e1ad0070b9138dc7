"""ORM of handling: the business case and its tasks."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_business.db import Base
from yiwang_common.db import JSONType, TZDateTime, utcnow

CASE_IN_PROGRESS = "in_progress"
CASE_DECIDED = "decided"
CASE_WITHDRAWN = "withdrawn"
TASK_OPEN = "open"
TASK_DONE = "done"
#: Closed without a decision: the lead finished before an assistant, a return, a withdrawal.
TASK_CANCELLED = "cancelled"
#: 协办 An assisting post's task: an opinion beside the lead's (主办) task.
KIND_ASSIST = "assist"


class BusinessCase(Base):
    """办件 Case as this system handles it, from acceptance to decision."""

    __tablename__ = "business_case"

    case_no: Mapped[str] = mapped_column(String(64), primary_key=True)
    application_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    item_code: Mapped[str] = mapped_column(String(64), nullable=False)
    item_name: Mapped[str] = mapped_column(String(500), nullable=False)
    org_code: Mapped[str] = mapped_column(String(64), nullable=False)
    org_name: Mapped[str] = mapped_column(String(500), nullable=False)
    # Applicant contract object: name, kind, id_type, id_number …
    applicant: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    form: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    materials: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False)
    accepted_at: Mapped[datetime] = mapped_column(TZDateTime, nullable=False)
    due_date: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=CASE_IN_PROGRESS)
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # The workflow definition as it was at acceptance (WorkflowSnapshot).
    workflow: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, nullable=False, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(TZDateTime, nullable=True)
    # Arrivals per parallel join gateway (并联汇聚) of the current round.
    joins: Mapped[dict[str, int]] = mapped_column(
        JSONType, nullable=False, default=dict, server_default=text("'{}'::jsonb")
    )
    # Why the clock stands still (计时暂停): suspended 挂起, with_applicant 补正, or a 特殊程序; empty = running.
    clock: Mapped[str | None] = mapped_column(String(20), nullable=True)
    paused_at: Mapped[datetime | None] = mapped_column(TZDateTime, nullable=True)
    pause_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Working days the clock has stood still so far; the due date moved by as many.
    paused_days: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))

    @property
    def applicant_name(self) -> str:
        """申请人名称."""
        return str(self.applicant.get("name", ""))


class Task(Base):
    """待办 Task: one step of one case, for one role in the implementing body."""

    __tablename__ = "task"
    # The work queue: open tasks of one unit, oldest first.
    __table_args__ = (
        Index("ix_task_queue", "org_code", "status", "created_at"),
        Index("ix_task_case", "case_no", "status"),
        # The timer sweep: open tasks by their step's due date.
        Index("ix_task_due", "due_date", postgresql_where=text("status = 'open' AND timer_fired_at IS NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_no: Mapped[str] = mapped_column(ForeignKey("business_case.case_no"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    step_key: Mapped[str] = mapped_column(String(32), nullable=False)
    step_name: Mapped[str] = mapped_column(String(50), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    org_code: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default=TASK_OPEN)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, nullable=False, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(TZDateTime, nullable=True)
    handler_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    handler_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decision: Mapped[str | None] = mapped_column(String(10), nullable=True)
    opinion: Mapped[str | None] = mapped_column(Text, nullable=True)
    # 环节时限: the step's limit in working days from when it opened; empty = the case's due date.
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    # 协办: the lead (主办) task an assisting task gives its opinion to.
    lead_task_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    reminders: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    timer_fired_at: Mapped[datetime | None] = mapped_column(TZDateTime, nullable=True)


class CaseLog(Base):
    """办理日志 What staff and the applicant did to a case beyond completing steps (退回, 转办, 催办, 挂起 …)."""

    __tablename__ = "case_log"
    __table_args__ = (Index("ix_case_log_case", "case_no", "at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_no: Mapped[str] = mapped_column(ForeignKey("business_case.case_no"), nullable=False)
    action: Mapped[str] = mapped_column(String(20), nullable=False)
    task_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    actor_id: Mapped[str] = mapped_column(String(64), nullable=False)
    actor_name: Mapped[str] = mapped_column(String(100), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    at: Mapped[datetime] = mapped_column(TZDateTime, nullable=False, default=utcnow)


class TimerSweep(Base):
    """定时器巡检 One sweep of the step timers per tick: the row commits with what the tick fired,
    so a tick is swept once across worker replicas (ADR 0113, as management's sweep in ADR 0107)."""

    __tablename__ = "timer_sweep"

    tick: Mapped[int] = mapped_column(BigInteger(), primary_key=True, autoincrement=False)
    swept_on: Mapped[date] = mapped_column(Date, nullable=False)
    worker: Mapped[str] = mapped_column(String(100), nullable=False)
    started_at: Mapped[datetime] = mapped_column(TZDateTime, nullable=False)
    finished_at: Mapped[datetime] = mapped_column(TZDateTime, nullable=False)
    fired: Mapped[int] = mapped_column(Integer, nullable=False)
