"""Request and response bodies of joint cases (联办件) and of the plug-in administration.

The external system's own bodies (token, dispatches, callbacks) are the contract's, in
:mod:`yiwang_contracts.plugin`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from yiwang_common.checkdigits import uscc_valid
from yiwang_common.contracts.common import Applicant, MaterialRef, Organisation
from yiwang_common.contracts.plugin import PartStatus


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SystemCreate(_In):
    """登记外部系统 Register a department's own approval system."""

    name: str = Field(min_length=1, max_length=100, examples=["市场监管局审批系统"])
    department_code: str = Field(
        pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$",
        description="所属部门统一社会信用代码",
        examples=["11530428015176456L"],
    )
    department_name: str = Field(min_length=1, max_length=200, examples=["元江县市场监督管理局"])

    @field_validator("department_code")
    @classmethod
    def _check_digit(cls, value: str) -> str:
        if not uscc_valid(value):
            raise ValueError("统一社会信用代码校验位不正确")
        return value


class SystemView(BaseModel):
    """A registered external system (never its secret)."""

    model_config = ConfigDict(from_attributes=True)

    system_id: str
    name: str
    department_code: str
    department_name: str
    client_id: str
    active: bool
    created_at: datetime


class SystemCreated(SystemView):
    """The registration's answer: the client secret is shown this once and stored only as argon2id."""

    client_secret: str


class HandlerConfig(_In):
    """办理系统配置: the built-in workflow, or a registered external system of the item's department."""

    handler: Literal["builtin", "external"] = Field(examples=["external"])
    system_id: str | None = Field(
        default=None,
        max_length=40,
        description="Required when handler=external",
        examples=["sys-0123456789abcdef"],
    )


class HandlerView(BaseModel):
    """Which system handles an item."""

    model_config = ConfigDict(from_attributes=True)

    item_code: str
    handler: Literal["builtin", "external"]
    system_id: str | None
    updated_at: datetime


class JointCaseCreate(_In):
    """窗口收件一次 The window collects the materials once and opens a joint case over several items."""

    theme_name: str = Field(
        min_length=1, max_length=200, description="联办主题 (一件事)", examples=["开办餐饮店"]
    )
    item_codes: list[str] = Field(
        min_length=2, max_length=10, description="各部门的实施编码, one per department"
    )
    applicant: Applicant
    form: dict[str, Any] = Field(default_factory=dict)
    materials: list[MaterialRef] = Field(default_factory=list, max_length=100)

    @field_validator("item_codes")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("事项重复")
        return value


class JointSupplement(_In):
    """补正材料 What the applicant handed in at the window for a department's 补正 request."""

    materials: list[MaterialRef] = Field(min_length=1, max_length=50)
    note: str = Field(default="", max_length=2000, examples=["已补充经营场所平面图"])


class JointCorrection(JointSupplement):
    """补正 What the applicant hands in through the portal for a department's 补正 request: materials
    (none when only the form or a note was asked for), corrected form fields and a note."""

    materials: list[MaterialRef] = Field(default_factory=list, max_length=50)
    form: dict[str, Any] = Field(default_factory=dict, max_length=100, description="Form fields to replace")
    note: str = Field(min_length=1, max_length=2000, examples=["已补充施工图审查合格书"])


class JointPartView(BaseModel):
    """One department's part, as management follows it."""

    part_no: str
    item_code: str
    item_name: str
    department: Organisation
    handler: Literal["builtin", "external"]
    system_id: str | None
    waiting_on: str = Field(description="Who the part waits on: 内置流程, or 外部系统 <name>")
    status: PartStatus
    limit_days: int
    due_date: date = Field(description="The part's due date, moved by the working days its clock stood still")
    clock_paused: bool = Field(
        default=False, description="business has the part's clock stopped (补正, 挂起, 特殊程序)"
    )
    paused_days: int = Field(default=0, description="Working days the part's clock stood still so far")
    dispatched_at: datetime
    acked_at: datetime | None = Field(description="When the external system took the part over")
    deliveries: int
    steps: int
    supplement: dict[str, Any] | None
    outcome: Literal["approved", "refused"] | None
    reason: str | None
    decided_at: datetime | None


class JointCaseView(BaseModel):
    """联办件: the combined case and every part; one combined result when all have decided."""

    joint_no: str
    theme_name: str
    applicant_id: str
    status: str
    outcome: Literal["approved", "refused"] | None
    notice_text: str | None = Field(
        description="联办不予许可告知: one combined notice when any part is refused"
    )
    accepted_at: datetime
    due_date: date
    completed_at: datetime | None
    parts: list[JointPartView]
