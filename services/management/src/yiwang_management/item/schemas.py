"""API models of the item catalogue (事项 / 办事指南)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from yiwang_common.contracts.codes import ItemType, RegionCode, ServiceObject
from yiwang_common.contracts.common import MaterialRequirement, Organisation
from yiwang_common.forms import SCHEMA_MAX_BYTES, schema_errors
from yiwang_common.jsonvalues import JsonObject
from yiwang_common.text import CLEAN_MULTILINE, Code, MultilineText, Name, Text, json_text_problem
from yiwang_management.item.models import Item

ItemStatus = Literal["in_force", "cancelled"]

#: Names real lists use beside the GB/T 39046 service objects (kept as written).
SERVICE_OBJECT_ALIASES = frozenset({"事业单位法人", "个体工商户"})
EXAMPLE_CODE = "11530428015176456L2000109003000"
#: Most entries of an item's material list; the gateway bounds an application's materials alike.
MAX_ITEM_MATERIALS = 100
GUIDE_MAX_BYTES = 64 * 1024
EXAMPLE_ORG = {"name": "元江县住房和城乡建设局", "code": "11530428015176456L"}


class ItemContent(BaseModel):
    """事项内容 Everything an item version says, except its 实施编码."""

    model_config = ConfigDict(extra="forbid")

    basic_code: Code = Field(max_length=32, description="基本编码", examples=["000109003000"])
    name: Name = Field(description="事项名称", examples=["建筑工程施工许可证核发"])
    item_type: Code = Field(
        max_length=32, description="事项类型 (GB/T 39046 A.1 的名称或代码，存为名称)", examples=["行政许可"]
    )
    version: int = Field(ge=1, le=1_000_000, description="事项版本", examples=[1])
    status: ItemStatus = Field(default="in_force", description="事项状态: 在用 / 已取消")
    implementing_org: Organisation = Field(description="实施主体", examples=[EXAMPLE_ORG])
    region_code: RegionCode = Field(description="行政区划代码 (GB/T 2260)", examples=["530428"])
    service_object: list[Name] = Field(
        default_factory=list,
        max_length=20,
        description="服务对象 (GB/T 39046 A.4 的名称或代码，存为名称)",
        examples=[["企业法人"]],
    )
    scope: Annotated[str, CLEAN_MULTILINE, StringConstraints(max_length=2000)] = Field(
        default="", description="受理范围"
    )
    legal_basis: list[MultilineText] = Field(
        default_factory=list, max_length=100, description="设定依据 / 办理依据"
    )
    conditions: list[MultilineText] = Field(
        default_factory=list, max_length=100, description="受理条件 / 审批条件"
    )
    materials: list[MaterialRequirement] = Field(
        default_factory=list, max_length=MAX_ITEM_MATERIALS, description="申请材料目录"
    )
    statutory_limit_days: int = Field(ge=0, le=3650, description="法定办结时限 (工作日)", examples=[7])
    promised_limit_days: int = Field(ge=0, le=3650, description="承诺办结时限 (工作日)", examples=[5])
    case_type: Literal["1", "2", "9"] = Field(default="2", description="办件类型: 1 即办件, 2 承诺件, 9 其他")
    fee: Text = Field(default="不收费", description="收费标准")
    form_schema: JsonObject = Field(
        default_factory=dict,
        description=f"申请表 JSON Schema (Draft 2020-12, checked as a schema; at most {SCHEMA_MAX_BYTES} bytes)",
    )
    guide: JsonObject = Field(
        default_factory=dict,
        description=f"其他办事指南要素 (办理地点, 办理时间 …); at most {GUIDE_MAX_BYTES} bytes",
    )

    @model_validator(mode="before")
    @classmethod
    def _clean_text(cls, data: Any) -> Any:
        # Nested contract values (materials, guide, form_schema) have no text types of their own.
        if isinstance(data, dict) and (found := json_text_problem(data)):
            raise ValueError(f"{found[0]}: {found[1]}")
        return data

    @field_validator("item_type")
    @classmethod
    def _item_type(cls, value: str) -> str:
        # Codes, not free strings: the name of a GB/T 39046 item type (a code is accepted and named).
        return ItemType.from_label(value).label

    @field_validator("service_object")
    @classmethod
    def _service_objects(cls, values: list[str]) -> list[str]:
        return [
            value if value in SERVICE_OBJECT_ALIASES else ServiceObject.from_label(value).label
            for value in values
        ]

    @model_validator(mode="after")
    def _schema_valid(self) -> ItemContent:
        if errors := schema_errors(self.form_schema):
            raise ValueError("form_schema" + "；".join(f"{e['pointer']}: {e['error']}" for e in errors))
        if len(orjson.dumps(self.guide)) > GUIDE_MAX_BYTES:
            raise ValueError(f"办事指南要素过大，最多 {GUIDE_MAX_BYTES} 字节")
        return self

    @model_validator(mode="after")
    def _consistent(self) -> ItemContent:
        codes = [m.code for m in self.materials]
        if len(codes) != len(set(codes)):
            raise ValueError("材料编码重复 (material codes must be unique)")
        if self.promised_limit_days > self.statutory_limit_days:
            raise ValueError("承诺时限不得超过法定时限 (promised limit exceeds the statutory limit)")
        return self


class ItemCreate(ItemContent):
    """事项发布 An item version to publish."""

    item_code: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[0-9A-Za-z]+$",
        description="实施编码",
        examples=[EXAMPLE_CODE],
    )


class ItemSummary(BaseModel):
    """事项摘要 An item as the catalogue lists it."""

    item_code: str = Field(examples=[EXAMPLE_CODE])
    basic_code: str = Field(examples=["000109003000"])
    name: str = Field(examples=["建筑工程施工许可证核发"])
    item_type: str = Field(examples=["行政许可"])
    version: int = Field(examples=[1])
    status: ItemStatus
    implementing_org: Organisation = Field(examples=[EXAMPLE_ORG])
    region_code: str = Field(examples=["530428"])
    statutory_limit_days: int = Field(examples=[7])
    promised_limit_days: int = Field(examples=[5])
    case_type: str = Field(examples=["2"])
    published_at: datetime

    @classmethod
    def from_item(cls, item: Item) -> Self:
        """Build the read model from the ORM row."""
        values = {c: getattr(item, c) for c in cls.model_fields if c != "implementing_org"}
        return cls.model_validate(
            values | {"implementing_org": {"name": item.org_name, "code": item.org_code}}
        )


class ItemSchema(ItemSummary):
    """事项详情与办事指南 An item with its whole guide."""

    service_object: list[str]
    scope: str
    legal_basis: list[str]
    conditions: list[str]
    materials: list[MaterialRequirement]
    fee: str
    form_schema: dict[str, Any]
    guide: dict[str, Any]
