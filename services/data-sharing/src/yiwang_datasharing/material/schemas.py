"""API models of the material domain (材料)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

SHA256_PATTERN = r"^[0-9a-f]{64}$"

#: A material's content address in a path: 64 lowercase hex characters.
Sha256Path = Annotated[str, Path(pattern=SHA256_PATTERN, description="材料 SHA-256 (64 位小写十六进制)")]


class MaterialSchema(BaseModel):
    """材料 Material as stored: its content address, size, detected type and the caller's file name."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    "size": 48213,
                    "media_type": "application/pdf",
                    "filename": "施工许可申请表.pdf",
                }
            ]
        }
    )

    sha256: str = Field(pattern=SHA256_PATTERN, description="内容 SHA-256")
    size: int = Field(ge=1, description="字节数")
    media_type: str = Field(description="由文件头识别的媒体类型", examples=["application/pdf"])
    filename: str | None = Field(default=None, description="上传时的文件名")
