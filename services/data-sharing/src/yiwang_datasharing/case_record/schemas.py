"""API models of the case library (办件信息库)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from yiwang_common.contracts.common import Organisation

#: 办件编号: region (6) + date (8) + sequence (6) + MOD 37,36 check character.
CaseNoPath = Annotated[str, Path(pattern=r"^[0-9]{20}[0-9A-Z]$", description="办件编号 (21 位)")]

_EXAMPLE_STEP: dict[str, Any] = {
    "step_key": "accept",
    "step_name": "受理",
    "action": "pass",
    "handler_id": "chuangkou",
    "handler_name": "窗口人员",
    "opinion": "材料齐全, 予以受理",
    "started_at": "2026-11-23T09:00:00Z",
    "ended_at": "2026-11-23T09:10:00Z",
    "org": {"name": "元江县住房和城乡建设局", "code": "11530428015176456L"},
    "status": "2",
}


class ProcessStepSchema(BaseModel):
    """办理环节 Process step (GB/T 39046 Table 7)."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_EXAMPLE_STEP]})

    step_key: str = Field(description="环节标识")
    step_name: str = Field(description="环节名称")
    action: str = Field(description="业务动作: pass 通过 / return 退回 / other 其他")
    handler_id: str = Field(description="环节处理人账号")
    handler_name: str = Field(description="环节处理人")
    opinion: str = Field(description="环节处理意见")
    started_at: datetime = Field(description="环节开始时间")
    ended_at: datetime = Field(description="环节结束时间")
    org: Organisation = Field(description="处理单位")
    status: str = Field(description="环节办理状态代码: 1 待办, 2 已办")


class CaseRecordSchema(BaseModel):
    """办件信息 Case record as the case library holds it, with its process steps in time order."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "application_id": "0b6f6d7e-3c1a-4d47-9d0e-2f6f1b9b3a11",
                    "case_no": "53042820261123000001E",
                    "applicant_id": "zhangsan",
                    "item_code": "11530428015176456L4000112001000",
                    "item_name": "建筑工程施工许可证核发",
                    "status": "accepted",
                    "accepted_at": "2026-11-23T09:10:00Z",
                    "due_date": "2026-12-07",
                    "steps": [_EXAMPLE_STEP],
                }
            ]
        },
    )

    application_id: uuid.UUID = Field(description="申请编号")
    case_no: str | None = Field(default=None, description="办件编号")
    applicant_id: str | None = Field(default=None, description="申请人账号")
    applicant: dict[str, Any] | None = Field(default=None, description="申请人")
    item_code: str | None = Field(default=None, description="事项实施编码")
    item_name: str | None = Field(default=None, description="事项名称")
    form: dict[str, Any] | None = Field(default=None, description="申请表")
    materials: list[dict[str, Any]] | None = Field(default=None, description="申请材料")
    supplemented_materials: list[dict[str, Any]] | None = Field(
        default=None, description="最近一次补正的材料"
    )
    status: str = Field(description="办件状态", examples=["accepted"])
    submitted_at: datetime | None = Field(default=None, description="申请时间")
    registered_at: datetime | None = Field(default=None, description="登记时间")
    accepted_at: datetime | None = Field(default=None, description="受理时间")
    rejected_at: datetime | None = Field(default=None, description="不予受理时间")
    rejection_reason: str | None = Field(default=None, description="不予受理理由")
    due_date: date | None = Field(default=None, description="承诺办结日期")
    outcome: str | None = Field(default=None, description="办理结果: approved 准予 / refused 不予")
    decision: dict[str, Any] | None = Field(default=None, description="决定书")
    licence_identifier: str | None = Field(default=None, description="电子证照标识")
    on_time: bool | None = Field(default=None, description="是否按时办结")
    completed_at: datetime | None = Field(default=None, description="办结时间")
    updated_at: datetime = Field(description="最后更新时间")
    steps: list[ProcessStepSchema] = Field(default_factory=list, description="办理环节, 按时间排序")


class CaseSummarySchema(BaseModel):
    """办件摘要 One line of a case list: no applicant identity, form or materials."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "case_no": "53042820261123000001E",
                    "item_code": "11530428015176456L4000112001000",
                    "item_name": "建筑工程施工许可证核发",
                    "status": "accepted",
                    "submitted_at": "2026-11-23T09:00:00Z",
                    "due_date": "2026-12-07",
                    "updated_at": "2026-11-23T09:10:00Z",
                }
            ]
        },
    )

    case_no: str = Field(description="办件编号")
    item_code: str | None = Field(default=None, description="事项实施编码")
    item_name: str | None = Field(default=None, description="事项名称")
    status: str = Field(description="办件状态", examples=["accepted"])
    submitted_at: datetime | None = Field(default=None, description="申请时间")
    due_date: date | None = Field(default=None, description="承诺办结日期")
    updated_at: datetime = Field(description="最后更新时间")
