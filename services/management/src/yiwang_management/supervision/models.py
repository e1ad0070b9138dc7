"""ORM models of deadlines (办件时限) and e-supervision (电子监察), and the loaded holiday schedules."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_common.db import JSONType, TZDateTime
from yiwang_management.db import Base

#: 监察预警类型: 预警 yellow before the limit, 超时 red once it has passed.
YELLOW = "yellow"
RED = "red"
LEVEL_NAMES = {YELLOW: "预警", RED: "超时"}
#: What ``warned_level`` records: nothing yet, yellow raised, red raised.
LEVEL_RANK = {YELLOW: 1, RED: 2}

#: 暂停计时 kinds: 补正 supplement, 特殊程序 special procedure (听证、检验、专家评审 …), 挂起 suspension.
PAUSE_KINDS = {"supplement": "补正", "special_procedure": "特殊程序", "suspension": "挂起"}

#: Why a due date moved (history).
CHANGE_REASONS = {
    "accepted": "受理起算",
    "paused": "暂停计时",
    "resumed": "恢复计时",
    "extended": "延期",
    "schedule_loaded": "节假日安排更新",
    "rule_changed": "监察规则调整",
}

#: 答复状态 of a warning: 待答复, 已答复, 已办结 (the supervisor closed it).
OPEN, REPLIED, CLOSED = "open", "replied", "closed"
WARNING_STATUS_NAMES = {OPEN: "待答复", REPLIED: "已答复", CLOSED: "已办结"}

#: 催办 a reminder to the handling department; 督办 formal supervision with a deadline for the answer.
ACTION_KINDS = {"urge": "催办", "supervise": "督办"}


class CaseDeadline(Base):
    """办件时限 The running clock of an accepted case: limits, pauses, extension, warnings raised.

    One row per accepted case; the sweep reads only this table, over partial indexes that hold
    just the open cases not warned yet at each level.
    """

    __tablename__ = "case_deadline"
    __table_args__ = (
        Index(
            "ix_case_deadline_yellow",
            "warn_date",
            postgresql_where=text("closed_on IS NULL AND NOT paused AND warned_level < 1"),
        ),
        Index(
            "ix_case_deadline_red",
            "due_date",
            postgresql_where=text("closed_on IS NULL AND NOT paused AND warned_level < 2"),
        ),
        Index(
            "ix_case_deadline_provisional",
            "statutory_due_date",
            postgresql_where=text("closed_on IS NULL AND provisional"),
        ),
        # Closed clocks only (the statistics' window): a sweep's update of an open row adds no entry.
        Index("ix_case_deadline_closed_on", "closed_on", postgresql_where=text("closed_on IS NOT NULL")),
    )

    case_no: Mapped[str] = mapped_column(
        ForeignKey("case_file.case_no", ondelete="CASCADE"), primary_key=True
    )
    item_code: Mapped[str] = mapped_column(String(64))
    org_code: Mapped[str] = mapped_column(String(32))
    #: 行政区划 of the case (the first six characters of its 办件编号).
    region_code: Mapped[str] = mapped_column(String(6))
    channel: Mapped[str] = mapped_column(String(16))
    #: 受理窗口 ``{统一社会信用代码}/{窗口编码}`` that accepted the case (ADR 0122), if any.
    window_code: Mapped[str | None] = mapped_column(String(64))
    clock_start: Mapped[date] = mapped_column(Date)
    promised_limit_days: Mapped[int]
    statutory_limit_days: Mapped[int]
    due_date: Mapped[date] = mapped_column(Date)
    statutory_due_date: Mapped[date] = mapped_column(Date)
    #: The day the yellow warning is due (预警日): ``warn_days`` working days before ``due_date``.
    warn_date: Mapped[date] = mapped_column(Date)
    #: 暂定: the limit crosses a year with no holiday schedule loaded; recomputed on loading one.
    provisional: Mapped[bool]
    paused: Mapped[bool]
    #: Working days the clock stood still in finished pauses.
    paused_days: Mapped[int]
    extension_days: Mapped[int]
    extension_reason: Mapped[str | None] = mapped_column(Text)
    extension_approver_id: Mapped[str | None] = mapped_column(String(64))
    extension_approver_name: Mapped[str | None] = mapped_column(String(100))
    extended_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    #: 0 none, 1 预警 raised, 2 超时 raised (LEVEL_RANK).
    warned_level: Mapped[int] = mapped_column(Integer)
    closed_on: Mapped[date | None] = mapped_column(Date)
    on_time: Mapped[bool | None]
    deemed_approved: Mapped[bool]


class CasePause(Base):
    """暂停计时 A pause of a case's clock (补正 / 特殊程序 / 挂起); ``ended_on`` null while it lasts."""

    __tablename__ = "case_pause"
    __table_args__ = (
        # At most one running pause per case.
        Index("uq_case_pause_running", "case_no", unique=True, postgresql_where=text("ended_on IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger(), primary_key=True)
    case_no: Mapped[str] = mapped_column(ForeignKey("case_file.case_no", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    started_by: Mapped[str] = mapped_column(String(100))
    ended_by: Mapped[str | None] = mapped_column(String(100))


class CaseDueChange(Base):
    """时限变更记录 Why a case's due date moved: old and new due date, reason, who."""

    __tablename__ = "case_due_change"

    id: Mapped[int] = mapped_column(BigInteger(), primary_key=True)
    case_no: Mapped[str] = mapped_column(ForeignKey("case_file.case_no", ondelete="CASCADE"), index=True)
    old_due_date: Mapped[date | None] = mapped_column(Date)
    new_due_date: Mapped[date] = mapped_column(Date)
    old_provisional: Mapped[bool | None]
    new_provisional: Mapped[bool]
    reason: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(TZDateTime)


class CaseStepClock(Base):
    """环节时限 The limit of one workflow step, from the business system's step event."""

    __tablename__ = "case_step_clock"
    __table_args__ = (
        UniqueConstraint("case_no", "step_key", "started_at"),
        Index(
            "ix_case_step_clock_yellow",
            "warn_date",
            postgresql_where=text("ended_at IS NULL AND warned_level < 1"),
        ),
        Index(
            "ix_case_step_clock_red",
            "due_date",
            postgresql_where=text("ended_at IS NULL AND warned_level < 2"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger(), primary_key=True)
    case_no: Mapped[str] = mapped_column(ForeignKey("case_file.case_no", ondelete="CASCADE"), index=True)
    step_key: Mapped[str] = mapped_column(String(64))
    step_name: Mapped[str] = mapped_column(String(100))
    item_code: Mapped[str] = mapped_column(String(64))
    org_code: Mapped[str] = mapped_column(String(32))
    region_code: Mapped[str] = mapped_column(String(6))
    started_at: Mapped[datetime] = mapped_column(TZDateTime)
    due_date: Mapped[date] = mapped_column(Date)
    warn_date: Mapped[date] = mapped_column(Date)
    ended_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    warned_level: Mapped[int] = mapped_column(Integer)
    #: A joint case's part whose department has stopped its clock (ADR 0127): the sweep passes it by.
    paused: Mapped[bool] = mapped_column(server_default=text("false"))


class SupervisionRule(Base):
    """监察规则 Per-item thresholds and the 承诺超时默认 flag; items without one use the defaults."""

    __tablename__ = "supervision_rule"

    item_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: 预警 this many working days before the case's due date.
    warn_days: Mapped[int]
    #: 预警 this many working days before a step's due date.
    step_warn_days: Mapped[int]
    #: 承诺超时默认: an overrun case is deemed approved (准予) and the decision issued.
    deemed_approval: Mapped[bool]
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(TZDateTime)


class SupervisionWarning(Base):
    """监察预警 A yellow or red warning of a case or a step; the department must answer in writing."""

    __tablename__ = "supervision_warning"
    __table_args__ = (
        # The idempotency key: a warning fires once per case, step, level and due date, whatever
        # replays; a due date that moves (resumed, extended) is warned again as it nears.
        UniqueConstraint("case_no", "step_key", "level", "due_date"),
        Index("ix_supervision_warning_status_raised_at", "status", "raised_at"),
        Index("ix_supervision_warning_org_code_status", "org_code", "status"),
    )

    id: Mapped[int] = mapped_column(BigInteger(), primary_key=True)
    # No foreign key: warnings come from clocks (which have one), and a per-row check would be a
    # third of the sweep's cost at a million open cases.
    case_no: Mapped[str] = mapped_column(String(32))
    #: '' for the case's own limit; the step key for a step's.
    step_key: Mapped[str] = mapped_column(String(64))
    step_name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(8))
    item_code: Mapped[str] = mapped_column(String(64))
    org_code: Mapped[str] = mapped_column(String(32))
    region_code: Mapped[str] = mapped_column(String(6))
    due_date: Mapped[date] = mapped_column(Date)
    raised_at: Mapped[datetime] = mapped_column(TZDateTime)
    #: The sweep tick that raised it.
    tick: Mapped[int] = mapped_column(BigInteger())
    status: Mapped[str] = mapped_column(String(16))
    reply_text: Mapped[str | None] = mapped_column(Text)
    replied_by: Mapped[str | None] = mapped_column(String(100))
    replied_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(100))
    closed_at: Mapped[datetime | None] = mapped_column(TZDateTime)


class SupervisionAction(Base):
    """催办 / 督办 record: who chased which case about what (GB/T 39046 Table 11 督办内容)."""

    __tablename__ = "supervision_action"

    id: Mapped[int] = mapped_column(BigInteger(), primary_key=True)
    case_no: Mapped[str] = mapped_column(ForeignKey("case_file.case_no", ondelete="CASCADE"), index=True)
    warning_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_warning.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    org_code: Mapped[str] = mapped_column(String(32))
    issued_by_id: Mapped[str] = mapped_column(String(64))
    issued_by: Mapped[str] = mapped_column(String(100))
    issued_at: Mapped[datetime] = mapped_column(TZDateTime)


class SupervisionSweep(Base):
    """One sweep per tick: the row commits with the sweep's warnings, so a tick is swept once."""

    __tablename__ = "supervision_sweep"

    tick: Mapped[int] = mapped_column(BigInteger(), primary_key=True, autoincrement=False)
    swept_on: Mapped[date] = mapped_column(Date)
    worker: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(TZDateTime)
    finished_at: Mapped[datetime] = mapped_column(TZDateTime)
    counts: Mapped[dict[str, Any]] = mapped_column(JSONType)


class CalendarSchedule(Base):
    """节假日安排 A holiday schedule loaded for a year (the file, as validated)."""

    __tablename__ = "calendar_schedule"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[dict[str, Any]] = mapped_column(JSONType)
    source: Mapped[str] = mapped_column(Text)
    loaded_by: Mapped[str] = mapped_column(String(100))
    loaded_at: Mapped[datetime] = mapped_column(TZDateTime)
