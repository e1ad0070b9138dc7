"""API models of workflow definitions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from yiwang_common.http.pagination import Pagination
from yiwang_common.text import Name, Text

#: Posts that handle a step (BIZ-04 岗位): 窗口受理, 审查, 决定.
StepRole = Literal["acceptor", "reviewer", "approver"]
StepKind = Literal["review", "decide"]
ITEM_CODE_PATTERN = r"^(\*|[0-9A-Za-z]{1,64})$"

FieldLabel = Annotated[Text, Field(max_length=50)]
FormKey = Annotated[Text, Field(max_length=100)]


class WorkflowStep(BaseModel):
    """办理环节 One step of a workflow."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(
        pattern=r"^[a-z][a-z0-9_]{0,31}$", description="Stable key of the step", examples=["review"]
    )
    name: Annotated[Name, Field(max_length=50)] = Field(description="环节名称", examples=["审查"])
    role: StepRole = Field(description="Role (岗位) that handles the step", examples=["reviewer"])
    kind: StepKind = Field(
        description="review 审查 (recommends) or decide 决定 (decides)", examples=["review"]
    )


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
        min_length=1, max_length=20, description="环节, in order; the last decides"
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
