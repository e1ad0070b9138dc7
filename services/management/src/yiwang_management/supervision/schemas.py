"""Request and response models of deadlines, e-supervision and the holiday-schedule administration."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from yiwang_common.text import MultilineText
from yiwang_management.supervision.models import (
    CHANGE_REASONS,
    LEVEL_NAMES,
    PAUSE_KINDS,
    WARNING_STATUS_NAMES,
)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PauseRequest(BaseModel):
    """暂停计时."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"kind": "special_procedure", "reason": "组织专家评审"}]},
    )

    kind: Literal["supplement", "special_procedure", "suspension"] = Field(
        description="supplement 补正 / special_procedure 特殊程序 / suspension 挂起"
    )
    reason: MultilineText


class ExtensionRequest(BaseModel):
    """延期 (once per case)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"days": 10, "reason": "需现场核查"}]}
    )

    days: int = Field(ge=1, le=60, description="延长的工作日数 (at most the configured maximum)")
    reason: MultilineText


class PauseView(_Out):
    """A pause."""

    kind: str
    kind_name: str = ""
    reason: str
    started_on: date
    ended_on: date | None
    started_by: str
    ended_by: str | None

    @classmethod
    def of(cls, pause: Any) -> PauseView:
        view = cls.model_validate(pause)
        return view.model_copy(update={"kind_name": PAUSE_KINDS.get(view.kind, view.kind)})


class DueChangeView(_Out):
    """One line of the due-date history."""

    old_due_date: date | None
    new_due_date: date
    old_provisional: bool | None
    new_provisional: bool
    reason: str = Field(description="accepted / paused / resumed / extended / schedule_loaded / rule_changed")
    reason_name: str = ""
    note: str
    changed_by: str
    changed_at: datetime

    @classmethod
    def of(cls, change: Any) -> DueChangeView:
        view = cls.model_validate(change)
        return view.model_copy(update={"reason_name": CHANGE_REASONS.get(view.reason, view.reason)})


class StepClockView(_Out):
    """环节时限."""

    step_key: str
    step_name: str
    started_at: datetime
    due_date: date
    warn_date: date
    ended_at: datetime | None


class WarningView(_Out):
    """监察预警."""

    id: int
    case_no: str
    step_key: str = Field(description="'' for the case's own limit")
    step_name: str
    level: str = Field(description="yellow 预警 / red 超时")
    level_name: str = ""
    item_code: str
    org_code: str = Field(description="责任部门")
    region_code: str
    due_date: date
    raised_at: datetime
    status: str = Field(description="open 待答复 / replied 已答复 / closed 已办结")
    status_name: str = ""
    reply_text: str | None
    replied_by: str | None
    replied_at: datetime | None
    closed_by: str | None
    closed_at: datetime | None

    @classmethod
    def of(cls, warning: Any) -> WarningView:
        view = cls.model_validate(warning)
        return view.model_copy(
            update={"level_name": LEVEL_NAMES[view.level], "status_name": WARNING_STATUS_NAMES[view.status]}
        )


class ActionView(_Out):
    """催办 / 督办 record."""

    id: int
    case_no: str
    warning_id: int | None
    kind: str = Field(description="urge 催办 / supervise 督办")
    content: str
    org_code: str
    issued_by: str
    issued_at: datetime


class DeadlineDetail(BaseModel):
    """办理时限 of a case and everything that moved it."""

    case_no: str
    clock_start: date
    promised_limit_days: int
    statutory_limit_days: int
    due_date: date = Field(description="承诺办结日期")
    statutory_due_date: date = Field(description="法定办结日期")
    warn_date: date = Field(description="预警日期")
    provisional: bool = Field(description="暂定: crosses a year with no holiday schedule loaded")
    paused: bool
    paused_days: int
    extension_days: int
    extension_reason: str | None
    extension_approver_name: str | None
    closed_on: date | None
    on_time: bool | None
    deemed_approved: bool
    pauses: list[PauseView]
    history: list[DueChangeView]
    steps: list[StepClockView]
    warnings: list[WarningView]
    actions: list[ActionView]

    @classmethod
    def build(cls, view: Any) -> DeadlineDetail:
        d = view.deadline
        return cls(
            case_no=d.case_no,
            clock_start=d.clock_start,
            promised_limit_days=d.promised_limit_days,
            statutory_limit_days=d.statutory_limit_days,
            due_date=d.due_date,
            statutory_due_date=d.statutory_due_date,
            warn_date=d.warn_date,
            provisional=d.provisional,
            paused=d.paused,
            paused_days=d.paused_days,
            extension_days=d.extension_days,
            extension_reason=d.extension_reason,
            extension_approver_name=d.extension_approver_name,
            closed_on=d.closed_on,
            on_time=d.on_time,
            deemed_approved=d.deemed_approved,
            pauses=[PauseView.of(p) for p in view.pauses],
            history=[DueChangeView.of(h) for h in view.history],
            steps=[StepClockView.model_validate(s) for s in view.steps],
            warnings=[WarningView.of(w) for w in view.warnings],
            actions=[ActionView.model_validate(a) for a in view.actions],
        )


class RuleRequest(BaseModel):
    """监察规则 of an item."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"warn_days": 3, "step_warn_days": 1, "deemed_approval": False}]},
    )

    warn_days: int = Field(ge=0, le=60, description="预警: working days before the case's due date")
    step_warn_days: int = Field(ge=0, le=60, description="预警: working days before a step's due date")
    deemed_approval: bool = Field(default=False, description="承诺超时默认: deem approval on overrun")


class RuleView(_Out):
    """An item's rule (or the defaults when ``configured`` is false)."""

    item_code: str
    warn_days: int
    step_warn_days: int
    deemed_approval: bool
    configured: bool = True
    updated_by: str | None = None
    updated_at: datetime | None = None


class ReplyRequest(BaseModel):
    """书面答复."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"text": "专家评审延后，已于今日办结"}]}
    )

    text: MultilineText


class UrgeRequest(BaseModel):
    """催办 / 督办."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"kind": "supervise", "content": "请两个工作日内办结并书面说明"}]},
    )

    kind: Literal["urge", "supervise"] = Field(description="urge 催办 / supervise 督办")
    content: MultilineText
    warning_id: int | None = Field(default=None, ge=1, description="The warning this answers, if any")


class RateRow(BaseModel):
    """按时办结率 of one department, window, channel or region."""

    key: str = Field(
        description=(
            "统一社会信用代码, ``{统一社会信用代码}/{窗口编码}`` (empty: accepted at no window post), "
            "channel or 行政区划代码"
        )
    )
    completed: int
    on_time: int
    overdue_open: int = Field(description="Open cases that passed their due date in the window")
    deemed: int = Field(description="承诺超时默认")
    extended: int
    on_time_rate: float | None = Field(description="on_time / (completed + overdue_open)")


class RateReport(BaseModel):
    """按时办结率 report."""

    group_by: str
    first: date
    last: date
    rows: list[RateRow]


class ScheduleSummary(BaseModel):
    """A year the calendar knows."""

    year: int
    origin: Literal["packaged", "loaded"]
    source: str
    loaded_by: str | None
    loaded_at: datetime | None
    holidays: int | None
    workdays: int | None


class ScheduleLoaded(BaseModel):
    """A schedule stored and applied."""

    year: int
    holidays: int
    workdays: int
    recomputed_cases: int = Field(description="Open cases whose due date or 暂定 flag moved")


class SweepView(BaseModel):
    """A finished sweep."""

    tick: int
    swept_on: date
    worker: str
    started_at: datetime
    finished_at: datetime
    counts: dict[str, int]


class ScheduleDocument(BaseModel):
    """节假日安排 file (``holiday-schedule.schema.json``); checked in full by that schema and its rules."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "year": 2027,
                    "source": "国务院办公厅关于2027年部分节假日安排的通知",
                    "holidays": [{"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"}],
                    "workdays": [{"name": "春节", "date": "2027-02-14"}],
                }
            ]
        },
    )

    year: int = Field(ge=2000, le=2100, description="年份")
    source: str = Field(default="", max_length=500, description="依据")
    holidays: list[dict[str, Any]] = Field(max_length=40, description="放假: name, start, end")
    workdays: list[dict[str, Any]] = Field(max_length=40, description="调休上班: name, date")
