"""API models of the account domain."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from yiwang_common.auth import PrincipalKind
from yiwang_common.text import Code, Name, Secret


class PrincipalOut(BaseModel):
    """登录主体 Who the token names."""

    sub: str = Field(description="账户 id", examples=["6f1c2d7e-8a0b-4c3d-9e2f-1a2b3c4d5e6f"])
    name: str = Field(description="姓名 / 单位名称", examples=["张三"])
    kind: PrincipalKind = Field(examples=["natural_person"])
    roles: list[str] = Field(examples=[["applicant"]])
    org_code: str | None = Field(default=None, description="统一社会信用代码 of a staff member's unit")


class Profile(BaseModel):
    """我的空间 The caller's profile."""

    id: str = Field(examples=["6f1c2d7e-8a0b-4c3d-9e2f-1a2b3c4d5e6f"])
    username: str = Field(examples=["zhangsan"])
    kind: str = Field(
        description="natural_person 自然人 / legal_person 法人 / staff 工作人员", examples=["natural_person"]
    )
    name: str = Field(examples=["张三"])
    id_type: str | None = Field(
        default=None, description="证件类型代码: 111 居民身份证, 001 统一社会信用代码"
    )
    id_number_masked: str | None = Field(
        default=None, description="证件号码 (masked)", examples=["5304**********1231"]
    )
    phone: str | None = Field(default=None, examples=["138****0001"])
    org_code: str | None = None
    roles: list[str] = Field(examples=[["applicant"]])


class AccountCreate(BaseModel):
    """A new account (used by the demo loader; an admin API comes later)."""

    username: Code
    password: Secret = Field(min_length=6)
    kind: Literal["natural_person", "legal_person", "staff"]
    name: Name
    id_type: Code | None = None
    id_number: Code | None = None
    phone: Code | None = None
    org_code: Code | None = None
    roles: list[Code] = Field(default_factory=list, max_length=20)
