"""API models of handling."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from yiwang_common.contracts.common import Applicant, DecisionDocument, ELicence, MaterialRef, Organisation
from yiwang_common.http.pagination import Pagination
from yiwang_common.jsonvalues import JsonObject
from yiwang_common.text import MultilineText

#: 处理意见: may span lines; control characters never reach the decision documents.
Opinion = Annotated[MultilineText, Field(max_length=1000)]


class TaskComplete(BaseModel):
    """办理 What the handler decides on a step."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"decision": "approve", "opinion": "材料齐全，符合法定条件，同意。"}]
        },
    )

    decision: Literal["approve", "refuse"] = Field(description="approve 同意 / refuse 不同意")
    opinion: Opinion = Field(description="处理意见; for a refusal, the reasons")


class TaskSchema(BaseModel):
    """待办任务 Task with the case facts a list needs."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_no: str = Field(description="办件编号", examples=["53042820261123000001E"])
    item_code: str = Field(description="实施编码")
    item_name: str = Field(description="事项名称", examples=["建筑工程施工许可证核发"])
    applicant_name: str = Field(description="申请人名称", examples=["张三"])
    step_key: str = Field(examples=["review"])
    step_name: str = Field(description="环节名称", examples=["审查"])
    role: str = Field(description="办理岗位", examples=["reviewer"])
    status: Literal["open", "done", "cancelled"] = Field(
        description="open 待办 / done 已办 / cancelled 已取消"
    )
    kind: Literal["review", "decide", "assist"] = Field(
        default="review", description="review 审查 / decide 决定 / assist 协办 (an opinion for the lead task)"
    )
    due_date: date = Field(description="承诺办结日期")
    step_due_date: date | None = Field(default=None, description="环节时限 (the step's own limit)")
    lead_task_id: uuid.UUID | None = Field(default=None, description="主办任务 of an assisting task")
    reminders: int = Field(default=0, description="催办次数")
    created_at: datetime
    completed_at: datetime | None = None
    handler_name: str | None = Field(default=None, description="环节处理人")
    decision: Literal["approve", "refuse"] | None = None
    opinion: str | None = Field(default=None, description="处理意见")


class TaskList(BaseModel):
    """A page of tasks."""

    items: list[TaskSchema]
    pagination: Pagination


class CaseFacts(BaseModel):
    """What the handler needs to judge a case: applicant, form and materials."""

    applicant: Applicant
    org: Organisation = Field(description="实施主体")
    form: dict[str, Any] = Field(description="申请表")
    materials: list[MaterialRef] = Field(description="申请材料; fetch each from data-sharing by sha256")
    accepted_at: datetime


class TaskDetail(TaskSchema):
    """待办任务 Task with the case facts and, for a lead task, its assistants' opinions (协办意见)."""

    case: CaseFacts
    assists: list[TaskSchema] = Field(default_factory=list, description="协办任务 and their opinions")


class CaseLogEntry(BaseModel):
    """办理日志 One action on a case beyond completing a step."""

    action: str = Field(
        description="return 退回 / return_to_applicant 退回补正 / correction 补正 / transfer 转办 / remind 催办 / "
        "timer 超时 / suspend 挂起 / special 特殊程序 / resume 恢复 / withdraw 撤回 / migrate 版本迁移"
    )
    task_id: uuid.UUID | None = None
    actor_name: str
    reason: str
    detail: dict[str, Any]
    at: datetime


class CaseView(BaseModel):
    """办件 Business case with its tasks, decision and licence."""

    case_no: str = Field(examples=["53042820261123000001E"])
    application_id: uuid.UUID
    item_code: str
    item_name: str
    status: Literal["in_progress", "decided", "withdrawn"] = Field(
        description="in_progress 办理中 / decided 已决定 / withdrawn 已撤回"
    )
    outcome: Literal["approved", "refused"] | None = None
    clock: str | None = Field(
        default=None,
        description="计时暂停 why the clock stands still: suspended 挂起 / with_applicant 补正 / hearing 听证 / "
        "testing 检验检测 / expert_review 专家评审 / site_inspection 现场勘验; empty = running",
    )
    pause_reason: str | None = None
    paused_days: int = Field(default=0, description="暂停的工作日数 so far")
    due_date: date
    workflow_version: int = Field(description="Workflow version the case follows (0 = built-in default)")
    facts: CaseFacts
    tasks: list[TaskSchema]
    log: list[CaseLogEntry] = Field(default_factory=list, description="办理日志")
    decision: DecisionDocument | None = None
    licence: ELicence | None = None


class TaskCompletion(BaseModel):
    """What completing a task did: the next task, or the decision."""

    task: TaskSchema
    next_task: TaskSchema | None = None
    next_tasks: list[TaskSchema] = Field(
        default_factory=list, description="Every step that opened (并联: several)"
    )
    case_status: Literal["in_progress", "decided"]
    outcome: Literal["approved", "refused"] | None = None
    decision: DecisionDocument | None = None
    licence: ELicence | None = None


Reason = Annotated[MultilineText, Field(min_length=1, max_length=500)]


class ReturnBody(BaseModel):
    """退回 Send the case back to an earlier step, or to the applicant for correction (补正)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"to": "review", "reason": "审查意见不完整，请补充"}]}
    )

    to: str = Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_-]{0,31}$",
        description="Key of an earlier step of this case, or ``applicant`` (退回申请人补正: the clock stands still)",
        examples=["review", "applicant"],
    )
    reason: Reason = Field(description="退回原因")


class TransferBody(BaseModel):
    """转办 Hand a task to another post, another department, or both."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"role": "reviewer", "org_code": "11530428015170000X", "reason": "涉及消防"}]
        },
    )

    role: Literal["receiver", "acceptor", "reviewer", "approver", "deliverer"] | None = Field(
        default=None, description="新的办理岗位; empty = the same post"
    )
    org_code: str | None = Field(
        default=None, pattern=r"^[0-9A-Z]{18}$", description="新的办理单位; empty = the same department"
    )
    reason: Reason = Field(description="转办原因")


class RemindBody(BaseModel):
    """催办 Remind the holders of an open task."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"message": "请于今日内办理"}]})

    message: Reason = Field(description="催办内容")


class PauseBody(BaseModel):
    """挂起 / 恢复 / 撤回: the reason, which is recorded."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "等待规划部门复函"}]}
    )

    reason: Reason


class SpecialProcedureBody(BaseModel):
    """特殊程序 Start a hearing, testing, expert review or on-site inspection: the clock stands still."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"procedure": "site_inspection", "reason": "需现场核实施工条件"}]},
    )

    procedure: Literal["hearing", "testing", "expert_review", "site_inspection"] = Field(
        description="hearing 听证 / testing 检验检测 / expert_review 专家评审 / site_inspection 现场勘验"
    )
    reason: Reason


def _no_nul(value: dict[str, Any]) -> dict[str, Any]:
    """PostgreSQL's jsonb cannot hold U+0000: refuse it (422) rather than fail on write."""
    if "\\u0000" in orjson.dumps(value).decode():
        raise ValueError("表单不能包含 U+0000 字符 (the form cannot contain U+0000)")
    return value


class CorrectionBody(BaseModel):
    """补正 The applicant's correction: changed form fields (conditions see them) and a note."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"form": {"建设规模": "4800平方米"}, "note": "已按要求更正建设规模"}]
        },
    )

    form: Annotated[JsonObject, AfterValidator(_no_nul)] = Field(
        default_factory=dict, max_length=100, description="Form fields to replace"
    )
    note: Reason = Field(description="补正说明")


class ActionResult(BaseModel):
    """What an action did to the case: its state and its open tasks afterwards."""

    case_no: str
    status: Literal["in_progress", "decided", "withdrawn"]
    clock: str | None = None
    due_date: date
    open_tasks: list[TaskSchema]


class TimerSweep(BaseModel):
    """What one sweep of the step timers fired."""

    fired: int = Field(description="Tasks whose step limit had passed (提醒 or 督办 sent)")
