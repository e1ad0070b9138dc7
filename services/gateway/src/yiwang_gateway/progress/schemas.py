"""API models of the progress domain."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from yiwang_common.contracts.common import (
    DecisionDocument,
    ELicence,
    MaterialRef,
    MissingMaterial,
    StepRecord,
)
from yiwang_gateway.application.schemas import JointPartLine
from yiwang_gateway.application.status import ApplicationStatus
from yiwang_gateway.material.schemas import MAX_MATERIALS, MaterialSelection


class CaseItem(BaseModel):
    """办件所属事项."""

    item_code: str = Field(examples=["11530428015176456L2000109003000"])
    name: str = Field(examples=["建筑工程施工许可证核发"])


class TimelineLine(BaseModel):
    """办理时间线 entry."""

    at: datetime
    title: str = Field(examples=["已受理"])
    detail: str | None = Field(default=None, examples=["承诺办结日期：2026-11-30"])
    data: dict[str, Any] | None = None


class CaseResult(BaseModel):
    """办理结果: the decision and, when approved, the e-licence."""

    decision: DecisionDocument
    licence: ELicence | None = None
    notice_text: str | None = Field(
        default=None,
        description="联办不予许可告知书: a joint case's one combined notice when a part was refused",
    )


class CaseView(BaseModel):
    """办件进度 The applicant's view of one case."""

    case_no: str = Field(description="办件编号", examples=["53042820261123000001E"])
    application_id: uuid.UUID
    item: CaseItem
    status: ApplicationStatus
    status_text: str = Field(examples=["已受理"])
    submitted_at: datetime
    due_date: date | None = Field(default=None, description="承诺办结日期")
    outcome: str | None = Field(default=None, description="approved 准予 / refused 不予")
    on_time: bool | None = Field(default=None, description="是否按时办结")
    result: CaseResult | None = None
    materials: list[MaterialRef]
    missing_materials: list[MissingMaterial]
    timeline: list[TimelineLine]
    steps: list[StepRecord]
    parts: list[JointPartLine] | None = Field(
        default=None, description="联办件: each department's part and its state (null for an ordinary case)"
    )


class SupplementCreate(BaseModel):
    """补正材料 Materials a one-time notice asked for."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "materials": [
                        {
                            "material_code": "M03",
                            "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                        }
                    ]
                }
            ]
        },
    )

    materials: list[MaterialSelection] = Field(min_length=1, max_length=MAX_MATERIALS)


class SupplementReceipt(BaseModel):
    """补正回执 The 202 answer to a supplement."""

    case_no: str
    application_id: uuid.UUID
    status: ApplicationStatus = Field(examples=["pending_acceptance"])
    supplemented_at: datetime
    materials: list[MaterialRef]
    missing_materials: list[MissingMaterial] = Field(description="Still missing from the notice's list")


class JointPartSupplementCreate(BaseModel):
    """补正 for one department's part of a joint case (联办分件待补正): materials (uploaded or from
    my 材料库, as for a case's 补正), corrected form fields and a note."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "materials": [
                        {
                            "material_code": "M03",
                            "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                        }
                    ],
                    "note": "已补充施工图审查合格书",
                }
            ]
        },
    )

    materials: list[MaterialSelection] = Field(default_factory=list, max_length=MAX_MATERIALS)
    form: dict[str, Any] = Field(default_factory=dict, max_length=100, description="Form fields to replace")
    note: str = Field(min_length=1, max_length=500, description="补正说明")


class JointPartSupplementReceipt(BaseModel):
    """补正回执 of a joint case's part: handed to the department that asked (its part runs again)."""

    case_no: str = Field(description="联办件办件编号")
    part_no: str
    department: str
    status: str = Field(
        description="The part's state at management after the hand-in", examples=["in_progress"]
    )
    supplemented_at: datetime
    materials: list[MaterialRef]


class PublicTimelineLine(BaseModel):
    """One line of the public progress: when and what, no details."""

    at: datetime
    title: str


class PublicProgress(BaseModel):
    """办件进度 (公开查询) What anyone holding the 办件编号 (e.g. from the 决定书's QR code) sees.

    No applicant, form, materials or notice texts: the item, the status, the dates and the result.
    """

    case_no: str
    item_name: str
    status_text: str
    submitted_on: date
    due_date: date | None = None
    outcome_text: str | None = None
    timeline: list[PublicTimelineLine]
