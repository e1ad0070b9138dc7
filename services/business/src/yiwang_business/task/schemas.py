"""API models of handling."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from yiwang_common.contracts.common import Applicant, DecisionDocument, ELicence, MaterialRef, Organisation
from yiwang_common.http.pagination import Pagination
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
    status: Literal["open", "done"] = Field(description="open 待办 / done 已办")
    due_date: date = Field(description="承诺办结日期")
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
    """待办任务 Task with the case facts."""

    case: CaseFacts


class CaseView(BaseModel):
    """办件 Business case with its tasks, decision and licence."""

    case_no: str = Field(examples=["53042820261123000001E"])
    application_id: uuid.UUID
    item_code: str
    item_name: str
    status: Literal["in_progress", "decided"] = Field(description="in_progress 办理中 / decided 已决定")
    outcome: Literal["approved", "refused"] | None = None
    due_date: date
    workflow_version: int = Field(description="Workflow version the case follows (0 = built-in default)")
    facts: CaseFacts
    tasks: list[TaskSchema]
    decision: DecisionDocument | None = None
    licence: ELicence | None = None


class TaskCompletion(BaseModel):
    """What completing a task did: the next task, or the decision."""

    task: TaskSchema
    next_task: TaskSchema | None = None
    case_status: Literal["in_progress", "decided"]
    outcome: Literal["approved", "refused"] | None = None
    decision: DecisionDocument | None = None
    licence: ELicence | None = None
