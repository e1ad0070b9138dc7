"""API models of the catalogue domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from yiwang_common.contracts.common import MaterialRequirement, Organisation


class ItemSummary(BaseModel):
    """事项 in a list."""

    model_config = ConfigDict(from_attributes=True)

    item_code: str = Field(description="实施编码", examples=["11530428015176456L2000109003000"])
    name: str = Field(description="事项名称", examples=["建筑工程施工许可证核发"])
    item_type: str = Field(description="事项类型", examples=["行政许可"])
    version: int = Field(examples=[1])
    org: Organisation = Field(description="实施主体")
    promised_limit_days: int | None = Field(default=None, description="承诺办结时限 (工作日)", examples=[5])


class ItemDetail(ItemSummary):
    """事项 with its 办事指南."""

    basic_code: str = Field(description="基本编码", examples=["000109003000"])
    region_code: str = Field(description="行政区划代码", examples=["530428"])
    service_object: list[str] = Field(description="服务对象")
    scope: str = Field(description="受理范围")
    legal_basis: list[str] = Field(description="设定依据")
    conditions: list[str] = Field(description="受理条件")
    materials: list[MaterialRequirement] = Field(description="申请材料")
    limits: dict[str, Any] = Field(
        description="时限与收费: statutory_limit_days, promised_limit_days, case_type, fee",
        examples=[{"statutory_limit_days": 7, "promised_limit_days": 5, "case_type": "2", "fee": "不收费"}],
    )
    form_schema: dict[str, Any] = Field(description="申请表 JSON Schema")
    guide: dict[str, Any] = Field(description="办事指南 further elements")
    published_at: datetime
