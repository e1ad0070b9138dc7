"""API models of application drafts (申请草稿)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from yiwang_common.forms import FORM_MAX_BYTES
from yiwang_common.text import Code
from yiwang_gateway.material.schemas import MAX_MATERIALS, MaterialSelection

_EXAMPLE: dict[str, Any] = {
    "item_code": "11530428015176456L2000109003000",
    "form": {"工程名称": "元江县第一中学教学楼"},
    "materials": [
        {"material_code": "M01", "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}
    ],
}


class DraftContent(BaseModel):
    """What a draft holds: the form as filled so far and the chosen uploads."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [_EXAMPLE | {"item_code": None}]}
    )

    form: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "申请表 fields so far; a draft may be incomplete (the item's form_schema is checked on submit), "
            f"at most {FORM_MAX_BYTES} bytes as JSON, no control characters"
        ),
    )
    materials: list[MaterialSelection] = Field(
        default_factory=list,
        max_length=MAX_MATERIALS,
        description="申请材料: the applicant's own uploads (new or earlier ones, 复用), checked against the item's list",
    )


class DraftCreate(DraftContent):
    """申请草稿 A new draft for an item."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    item_code: Code = Field(description="实施编码")


class DraftView(BaseModel):
    """申请草稿 as its owner sees it."""

    draft_id: uuid.UUID
    item_code: str
    item_name: str = Field(examples=["建筑工程施工许可证核发"])
    form: dict[str, Any]
    materials: list[MaterialSelection]
    created_at: datetime
    updated_at: datetime
    application_id: uuid.UUID | None = Field(
        default=None, description="The application it became; a submitted draft can no longer change"
    )


class DraftSummary(BaseModel):
    """申请草稿 in the owner's list."""

    draft_id: uuid.UUID
    item_code: str
    item_name: str = Field(examples=["建筑工程施工许可证核发"])
    updated_at: datetime
