"""API models of the base registries (基础库)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from yiwang_common.text import Code, Name

_ID = "530428199001011231"
_USCC = "91530428MA6K000015"


class PersonVerifyRequest(BaseModel):
    """人口库核验 Does this name go with this 公民身份号码? (exact match on both)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"id_number": _ID, "name": "张三"}]})

    id_number: Code = Field(description="公民身份号码", max_length=18)
    name: Name = Field(description="姓名")


class PersonRecordOut(BaseModel):
    """人口库记录 What the portal may pre-fill after an exact match of name and number."""

    id_number: str = Field(examples=[_ID])
    name: str = Field(examples=["张三"])
    gender: str | None = Field(default=None, description="性别", examples=["男"])
    birth_date: date = Field(description="出生日期", examples=["1990-01-01"])
    address: str | None = Field(default=None, description="住址", examples=["云南省玉溪市元江县澧江街道"])


class LegalPersonVerifyRequest(BaseModel):
    """法人库核验 Do the unit's name and its 法定代表人 (name and number) go with this code?"""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "credit_code": _USCC,
                    "name": "元江县城市建设投资有限公司",
                    "legal_rep_name": "张三",
                    "legal_rep_id_number": _ID,
                }
            ]
        }
    )

    credit_code: Code = Field(description="统一社会信用代码", max_length=18)
    name: Name = Field(description="单位名称")
    legal_rep_name: Name = Field(description="法定代表人姓名")
    legal_rep_id_number: Code = Field(description="法定代表人公民身份号码", max_length=18)


class LegalPersonLookupRequest(BaseModel):
    """法人库预填 Look a unit up by its exact 统一社会信用代码."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"credit_code": _USCC}]})

    credit_code: Code = Field(description="统一社会信用代码", max_length=18)


class LegalPersonRecordOut(BaseModel):
    """法人库记录 A unit as the registry holds it; the representative's number stays masked."""

    credit_code: str = Field(examples=[_USCC])
    name: str = Field(examples=["元江县城市建设投资有限公司"])
    legal_rep_name: str = Field(description="法定代表人", examples=["张三"])
    legal_rep_id_number_masked: str = Field(examples=["530428********1231"])
    address: str | None = Field(default=None, description="住所")
    established_on: date | None = Field(default=None, description="成立日期")
    status: str = Field(description="登记状态", examples=["存续"])


class VerifyResult(BaseModel):
    """核验结果: matched or not, never which part differed (that would let callers probe the registry)."""

    matched: bool = Field(examples=[True])
    active: bool | None = Field(
        default=None, description="法人库: whether the unit is 存续/在业 (None for the population registry)"
    )


class RowErrorOut(BaseModel):
    """One bad row: 行号, 列, 原因."""

    row: int = Field(description="行号 as a spreadsheet shows it (the header is row 1)", examples=[3])
    column: str | None = Field(default=None, description="列 (its header)", examples=["公民身份号码"])
    reason: str = Field(examples=["公民身份号码校验码错误 (GB 11643)"])


class LoadJobOut(BaseModel):
    """导入任务 A registry load: its progress and the rows it refused."""

    id: uuid.UUID
    registry: Literal["population", "legal_person"]
    filename: str = Field(examples=["population-2026-12.csv"])
    sha256: str
    status: Literal["running", "completed", "failed"] = Field(examples=["completed"])
    total_rows: int = Field(examples=[3])
    processed_rows: int = Field(examples=[3])
    inserted: int = Field(examples=[2])
    updated: int = Field(examples=[0])
    unchanged: int = Field(examples=[0])
    error_count: int = Field(examples=[1])
    errors: list[RowErrorOut] = Field(description="The first 1,000 row errors")
    detail: str | None = None
    started_at: datetime
    finished_at: datetime | None = None
    links: dict[str, str] = Field(examples=[{"self": "/api/v1/registry/loads/…"}])
