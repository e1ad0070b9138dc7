"""API models of my space (我的)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class MyMaterial(BaseModel):
    """我的材料 An earlier upload; its ``sha256`` can be referenced again in a new application."""

    sha256: str = Field(examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"])
    size: int = Field(examples=[102400])
    media_type: str = Field(examples=["application/pdf"])
    filename: str | None = Field(default=None, examples=["施工合同.pdf"])
    uploaded_at: datetime


class MyLicence(BaseModel):
    """我的证照 An e-licence data-sharing holds for the holder (the full record is in data-sharing)."""

    identifier: str = Field(
        examples=["1.2.156.3005.2.11100000000013338W032.11530428015176456L.20261123000001.001.Z"]
    )
    type_name: str = Field(examples=["建筑工程施工许可证"])
    licence_no: str
    holder_name: str = Field(description="持证主体 (a person's name masked)", examples=["张*"])
    issuer_name: str = Field(examples=["元江县住房和城乡建设局"])
    issued_on: date
    valid_until: date | None = None
    status: str = Field(examples=["valid"])
    case_no: str = Field(description="办件编号")


class MyLicences(BaseModel):
    """我的证照 The holder's licences."""

    holder_code_masked: str = Field(examples=["530428********1231"])
    items: list[MyLicence]


class RegistryRecord(BaseModel):
    """人口库 record of the caller, for pre-filling application forms (exact match of name and number)."""

    name: str = Field(examples=["张三"])
    gender: str | None = Field(default=None, examples=["男"])
    birth_date: date = Field(examples=["1990-01-01"])
    address: str | None = Field(default=None, examples=["云南省玉溪市元江县澧江街道红河路1号"])
