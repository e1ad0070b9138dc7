"""API models of the application domain."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from yiwang_common.contracts.common import MaterialRef, MissingMaterial, Organisation
from yiwang_common.forms import FORM_MAX_BYTES
from yiwang_common.text import Code
from yiwang_gateway.application.status import PART_STATUS_TEXT, ApplicationStatus
from yiwang_gateway.licence.schemas import LicenceSelection
from yiwang_gateway.material.schemas import MAX_MATERIALS, MaterialSelection

_FORM_EXAMPLE: dict[str, Any] = {
    "project_name": "元江县第一中学教学楼",
    "address": "元江县澧江街道",
    "area_m2": 5200,
}


class ApplicationCreate(BaseModel):
    """网上申请 A new application."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "item_code": "11530428015176456L2000109003000",
                    "form": _FORM_EXAMPLE,
                    "materials": [
                        {
                            "material_code": "M01",
                            "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                        }
                    ],
                }
            ]
        },
    )

    item_code: Code = Field(description="实施编码")
    form: dict[str, Any] = Field(
        description=(
            "申请表 fields, validated against the item's form_schema (JSON Schema 2020-12); "
            f"at most {FORM_MAX_BYTES} bytes as JSON, no control characters"
        )
    )
    materials: list[MaterialSelection] = Field(
        default_factory=list, max_length=MAX_MATERIALS, description="申请材料"
    )
    licences: list[LicenceSelection] = Field(
        default_factory=list,
        max_length=20,
        description=(
            "以证代材: e-licences from the e-licence library offered instead of a scan, for materials "
            "the item marks as shareable (可通过数据共享获取); each must be the applicant's and valid now"
        ),
    )


class ApplicationLinks(BaseModel):
    """Where to look next."""

    self: str = Field(examples=["/api/v1/applications/6f1c2d7e-8a0b-4c3d-9e2f-1a2b3c4d5e6f"])
    item: str = Field(examples=["/api/v1/items/11530428015176456L2000109003000"])
    case: str | None = Field(default=None, examples=["/api/v1/cases/53042820261123000001E"])


class ApplicationReceipt(BaseModel):
    """申请回执 The 202 answer to a submission."""

    application_id: uuid.UUID
    status: ApplicationStatus = Field(examples=["submitted"])
    submitted_at: datetime
    links: ApplicationLinks


class ApplicationSummary(BaseModel):
    """申请 in the caller's list."""

    application_id: uuid.UUID
    item_code: str
    item_name: str = Field(examples=["建筑工程施工许可证核发"])
    status: ApplicationStatus
    status_text: str = Field(examples=["待受理"])
    case_no: str | None = Field(default=None, description="办件编号", examples=["53042820261123000001E"])
    outcome: str | None = Field(default=None, description="approved 准予 / refused 不予")
    submitted_at: datetime


class JointPartLine(BaseModel):
    """联办分件 One department's part of a joint case, as the applicant follows it (ADR 0121)."""

    part_no: str = Field(examples=["53042820261123000001EP01"])
    item_name: str
    department: Organisation
    status: Literal["dispatched", "in_progress", "awaiting_supplement", "approved", "refused"]
    status_text: str = Field(examples=["办理中"])
    limit_days: int = Field(description="该部门的承诺时限 (工作日)")
    due_date: date
    note: str | None = Field(default=None, description="补正 reason, or the 不予许可 reason")

    @classmethod
    def from_stored(cls, parts: list[Any] | None) -> list[JointPartLine] | None:
        """The application's stored parts, or None for an ordinary case."""
        if parts is None:
            return None
        return [
            cls.model_validate(p | {"status_text": PART_STATUS_TEXT.get(p["status"], p["status"])})
            for p in parts
        ]


class ApplicationDetail(ApplicationSummary):
    """申请 with its form and materials."""

    form: dict[str, Any] = Field(examples=[_FORM_EXAMPLE])
    materials: list[MaterialRef]
    missing_materials: list[MissingMaterial]
    due_date: date | None = Field(default=None, description="承诺办结日期")
    links: ApplicationLinks
    joint_parts: list[JointPartLine] | None = Field(
        default=None, description="联办件: each department's part and its state (null for an ordinary case)"
    )
