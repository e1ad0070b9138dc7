"""API models of the material domain."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from yiwang_common.text import Code, Filename

SHA256_PATTERN = r"^[0-9a-f]{64}$"
#: Most materials one application or supplement may hand in; bounds the event that carries them.
MAX_MATERIALS = 100


class MaterialUploaded(BaseModel):
    """已上传材料 as data-sharing reports it."""

    model_config = ConfigDict(extra="ignore")

    sha256: str = Field(
        pattern=SHA256_PATTERN, examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]
    )
    size: int = Field(ge=1, examples=[102400])
    media_type: str = Field(max_length=100, examples=["application/pdf"])
    filename: Filename | None = Field(default=None, examples=["施工许可申请表.pdf"])


class MaterialSelection(BaseModel):
    """A reference to an uploaded file for one entry of the item's material list."""

    model_config = ConfigDict(extra="forbid")

    material_code: Code = Field(description="材料编码", examples=["M01"])
    sha256: str = Field(pattern=SHA256_PATTERN, description="已上传文件的 SHA-256")
