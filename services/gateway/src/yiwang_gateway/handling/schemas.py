"""API models of the applicant's 补正 and 撤回."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from yiwang_common.text import MultilineText

Reason = Annotated[MultilineText, Field(min_length=1, max_length=500)]


class CorrectionCreate(BaseModel):
    """补正 after 退回补正: changed form fields (checked with the item's form schema) and a note."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"form": {"建设规模": 4800}, "note": "已按要求更正建设规模"}]},
    )

    form: dict[str, Any] = Field(default_factory=dict, max_length=100, description="Form fields to replace")
    note: Reason = Field(description="补正说明")


class WithdrawCreate(BaseModel):
    """撤回 before the decision, with the reason."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "项目计划调整，暂不申请"}]}
    )

    reason: Reason = Field(description="撤回原因")


class HandlingReceipt(BaseModel):
    """What business answered: the case's state after the action."""

    case_no: str = Field(examples=["53042820261123000001E"])
    status: str = Field(
        description="in_progress 办理中 / decided 已决定 / withdrawn 已撤回", examples=["withdrawn"]
    )
    clock: str | None = Field(default=None, description="计时暂停原因; empty = running")
    due_date: date = Field(description="承诺办结日期")
