"""API models of workflow definitions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from yiwang_common.http.pagination import Pagination
from yiwang_common.text import Name, Text

#: Posts that handle a step (BIZ-04 岗位): 收件, 受理, 审查, 决定, 送件 (``yiwang_common.auth`` roles).
StepRole = Literal["receiver", "acceptor", "reviewer", "approver", "deliverer"]
StepKind = Literal["review", "decide"]
#: 特殊程序 Special procedures: their time does not count against the limit (《行政许可法》 第四十五条).
SpecialProcedure = Literal["hearing", "testing", "expert_review", "site_inspection"]
SPECIAL_PROCEDURES: tuple[SpecialProcedure, ...] = ("hearing", "testing", "expert_review", "site_inspection")
SPECIAL_PROCEDURE_NAMES: dict[str, str] = {
    "hearing": "听证",
    "testing": "检验检测",
    "expert_review": "专家评审",
    "site_inspection": "现场勘验",
}
ITEM_CODE_PATTERN = r"^(\*|[0-9A-Za-z]{1,64})$"
#: Keys of steps and gateways; ``start`` and ``end`` name the process's start and end in flows.
NODE_KEY_PATTERN = r"^[A-Za-z_][A-Za-z0-9_-]{0,31}$"
START, END = "start", "end"
ORG_CODE_PATTERN = r"^[0-9A-Z]{18}$"

FieldLabel = Annotated[Text, Field(max_length=50)]
FormKey = Annotated[Text, Field(max_length=100)]


class AssistPost(BaseModel):
    """协办岗位 An assisting post: gives an opinion; the step completes when the lead completes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: StepRole = Field(examples=["reviewer"])
    org_code: str | None = Field(
        default=None, pattern=ORG_CODE_PATTERN, description="协办单位; empty = the implementing body"
    )


class StepTimer(BaseModel):
    """边界定时器 Boundary timer: when the step's time limit passes, remind (提醒) or escalate (督办)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Literal["remind", "escalate"] = Field(default="remind", description="remind 提醒 / escalate 督办")


class WorkflowStep(BaseModel):
    """办理环节 One step of a workflow."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(pattern=NODE_KEY_PATTERN, description="Stable key of the step", examples=["review"])
    name: Annotated[Name, Field(max_length=50)] = Field(description="环节名称", examples=["审查"])
    role: StepRole = Field(description="Role (岗位) that handles the step", examples=["reviewer"])
    kind: StepKind = Field(
        description="review 审查 (recommends) or decide 决定 (decides)", examples=["review"]
    )
    time_limit_days: int | None = Field(
        default=None, ge=1, le=365, description="环节时限 in working days (工作日); empty = the case's limit"
    )
    assists: list[AssistPost] = Field(
        default_factory=list, max_length=10, description="协办 Assisting posts; the lead (主办) is ``role``"
    )
    special_procedures: list[SpecialProcedure] = Field(
        default_factory=lambda: list(SPECIAL_PROCEDURES),
        max_length=4,
        description="特殊程序 allowed on this step: hearing 听证, testing 检验检测, expert_review 专家评审, "
        "site_inspection 现场勘验",
    )
    timer: StepTimer | None = Field(default=None, description="边界定时器 Boundary timer of the step")


class Gateway(BaseModel):
    """网关 A branch point: exclusive (one branch by condition) or parallel (并联: every branch, then join)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(pattern=NODE_KEY_PATTERN, examples=["split"])
    type: Literal["exclusive", "parallel"] = Field(description="exclusive 排他 / parallel 并行")
    name: Annotated[Text, Field(max_length=50)] | None = None


class Flow(BaseModel):
    """顺序流 A sequence flow between steps, gateways, ``start`` and ``end``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = Field(pattern=NODE_KEY_PATTERN, examples=["start"])
    target: str = Field(pattern=NODE_KEY_PATTERN, examples=["review"])
    condition: Annotated[Text, Field(max_length=500)] | None = Field(
        default=None,
        description="条件 over the form data, e.g. ``建设规模 > 1000 && 类型 == '新建'`` (JUEL ``${…}`` too)",
    )
    default: bool = Field(default=False, description="默认分支 of an exclusive gateway")


class WorkflowBody(BaseModel):
    """What an administrator sets for an item (流程定义)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "steps": [
                        {"key": "review", "name": "审查", "role": "reviewer", "kind": "review"},
                        {"key": "decide", "name": "决定", "role": "approver", "kind": "decide"},
                    ],
                    "licence_type_code": "11100000000013338W032",
                    "licence_type_name": "建筑工程施工许可证",
                    "licence_validity_days": None,
                    "decision_doc_prefix": "元住建许",
                    "licence_fields": {"工程名称": ["project_name"]},
                }
            ]
        },
    )

    steps: list[WorkflowStep] = Field(
        min_length=1,
        max_length=50,
        description="环节 (user tasks); without ``flows`` they run in order and the last decides",
    )
    gateways: list[Gateway] = Field(default_factory=list, max_length=50, description="网关")
    flows: list[Flow] | None = Field(
        default=None,
        max_length=200,
        description="顺序流; empty = the steps in order. With flows, every step flowing to ``end`` decides",
    )
    licence_type_code: str | None = Field(
        default=None, pattern=r"^[0-9A-Z]{21}$", description="证照类型代码; empty when no licence is issued"
    )
    licence_type_name: Annotated[Name, Field(max_length=100)] | None = Field(
        default=None, description="证照类型名称"
    )
    licence_validity_days: int | None = Field(
        default=None, ge=1, le=36500, description="有效期 (days); empty = 长期"
    )
    decision_doc_prefix: Annotated[Text, Field(max_length=32)] = Field(
        description="决定书文号前缀", examples=["元住建许"]
    )
    licence_fields: dict[FieldLabel, Annotated[list[FormKey], Field(max_length=10)]] = Field(
        default_factory=dict,
        max_length=30,
        description="照面信息: label -> form fields to copy, first present wins",
    )

    @model_validator(mode="after")
    def _licence_type_complete(self) -> WorkflowBody:
        if (self.licence_type_code is None) != (self.licence_type_name is None):
            raise ValueError("licence_type_code and licence_type_name go together")
        return self


class WorkflowSnapshot(WorkflowBody):
    """The definition a case was accepted under; later edits do not change running cases."""

    model_config = ConfigDict(extra="ignore")

    item_code: str
    version: int = Field(ge=0, description="Version; 0 is the built-in default")

    @property
    def decide_step(self) -> WorkflowStep:
        """The last step, which decides."""
        return self.steps[-1]


class WorkflowDefinitionSchema(WorkflowSnapshot):
    """流程定义 Workflow definition as the API shows it."""

    builtin: bool = Field(default=False, description="True for the built-in default that was never stored")
    updated_at: datetime | None = None


class WorkflowList(BaseModel):
    """A page of workflow definitions."""

    items: list[WorkflowDefinitionSchema]
    pagination: Pagination


VersionStatus = Literal["draft", "published", "superseded"]
STATUS_NAMES = {"draft": "草稿", "published": "已发布", "superseded": "已停用"}


class ProcessVersionSchema(BaseModel):
    """流程定义版本 One version of an item's process: a draft (草稿), published (已发布) or superseded (已停用)."""

    item_code: str
    version: int = Field(ge=1)
    status: VersionStatus = Field(description="draft 草稿 / published 已发布 / superseded 已停用")
    definition: WorkflowBody
    source: Literal["api", "bpmn"] = Field(description="api 接口编辑 / bpmn BPMN 2.0 导入")
    created_by: str
    created_at: datetime
    published_at: datetime | None = None


class ProcessVersionList(BaseModel):
    """Every version of an item's process, newest first."""

    items: list[ProcessVersionSchema]


class MigrationBody(BaseModel):
    """版本迁移 Move running cases from one published version to another."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "from_version": 1,
                    "to_version": 2,
                    "step_map": {"survey": "site_check"},
                    "reason": "流程调整：现场踏勘改为现场核查",
                }
            ]
        },
    )

    from_version: int = Field(ge=0, description="Version the cases follow now (0 = built-in default)")
    to_version: int = Field(ge=1, description="Published version to move them to")
    case_nos: list[Annotated[str, Field(pattern=r"^[0-9A-Za-z]{1,64}$")]] | None = Field(
        default=None, max_length=1000, description="办件编号; empty = every running case of from_version"
    )
    step_map: dict[
        Annotated[str, Field(pattern=NODE_KEY_PATTERN)], Annotated[str, Field(pattern=NODE_KEY_PATTERN)]
    ] = Field(
        default_factory=dict, max_length=50, description="Open step key in the old version → key in the new"
    )
    reason: Annotated[Text, Field(min_length=1, max_length=500)] = Field(description="迁移原因")


class MigrationResult(BaseModel):
    """What a migration did; it is logged (版本迁移记录) and announced as an event."""

    id: uuid.UUID
    item_code: str
    from_version: int
    to_version: int
    migrated: list[str] = Field(description="办件编号 moved to the new version")
    actor_name: str
    reason: str
    migrated_at: datetime
