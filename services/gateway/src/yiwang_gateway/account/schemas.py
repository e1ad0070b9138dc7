"""API models of the account domain."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from yiwang_common.auth import PrincipalKind
from yiwang_common.text import Code, Name, Secret

#: 实名等级 (issue 8).
RealnameLevel = Literal["L1", "L2", "L3"]
#: 授权范围 actions an agent may be given: 申请, 补正, 撤回, 查看.
AgentAction = Literal["apply", "supplement", "withdraw", "view"]
AGENT_ACTIONS: tuple[AgentAction, ...] = ("apply", "supplement", "withdraw", "view")
#: A user name: letters, digits and ``._-``, as login forms expect.
Username = Annotated[
    str, StringConstraints(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]
#: 手机号码 of mainland China.
Mobile = Annotated[str, StringConstraints(pattern=r"^1[3-9][0-9]{9}$")]
#: A new password (the hash is the account domain's, see passwords.py).
NewPassword = Annotated[Secret, StringConstraints(min_length=8, max_length=128)]
_ID = "530428199203151232"
_USCC = "91530428MA6K000028"


class PrincipalOut(BaseModel):
    """登录主体 Who the token names."""

    sub: str = Field(description="账户 id", examples=["6f1c2d7e-8a0b-4c3d-9e2f-1a2b3c4d5e6f"])
    name: str = Field(description="姓名 / 单位名称", examples=["张三"])
    kind: PrincipalKind = Field(examples=["natural_person"])
    roles: list[str] = Field(examples=[["applicant"]])
    org_code: str | None = Field(default=None, description="统一社会信用代码 of a staff member's unit")
    region: str | None = Field(
        default=None,
        description="行政区划代码 (GB/T 2260) of a staff member's department",
        examples=["530428"],
    )
    window: str | None = Field(
        default=None,
        description="窗口编码 of the window post a staff member holds (statistics per 受理窗口)",
        examples=["ZH03"],
    )


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
        default=None,
        description="证件号码: a person's masked (first 6, last 4), a 统一社会信用代码 in full",
        examples=["530428********1231"],
    )
    phone: str | None = Field(default=None, description="手机号码 (masked)", examples=["138****0001"])
    org_code: str | None = None
    roles: list[str] = Field(examples=[["applicant"]])
    realname_level: str | None = Field(
        default=None,
        description="实名等级: L1 自主声明, L2 基础库核验, L3 现场或可信渠道核验",
        examples=["L2"],
    )
    legal_rep_name: str | None = Field(default=None, description="法定代表人 (masked) of a legal person")
    acting_for: str | None = Field(
        default=None, description="统一社会信用代码 of the legal person the token acts for (经办人)"
    )
    agent_scopes: list[str] = Field(default_factory=list, description="授权范围 of that token")


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
    realname_level: RealnameLevel | None = None
    legal_rep_name: Name | None = None
    legal_rep_id_number: Code | None = None


class NaturalPersonSignUp(BaseModel):
    """自然人注册 Sign-up of a natural person, verified against the 人口库 (→ 实名等级 L2)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "username": "wangwu",
                    "password": "correct-horse-9",
                    "name": "王五",
                    "id_number": _ID,
                    "mobile": "13900000003",
                }
            ]
        }
    )

    username: Username = Field(description="用户名")
    password: NewPassword = Field(description="口令 (at least 8 characters)")
    name: Name = Field(description="姓名 as on the 居民身份证")
    id_number: Code = Field(description="公民身份号码 (GB 11643)", max_length=18)
    mobile: Mobile = Field(description="手机号码")


class LegalPersonSignUp(BaseModel):
    """法人注册 Sign-up of a legal person, verified against the 法人库 (unit, name, 法定代表人)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "username": "hhgny",
                    "password": "correct-horse-9",
                    "credit_code": _USCC,
                    "name": "元江县红河谷农业开发有限公司",
                    "legal_rep_name": "赵丽",
                    "legal_rep_id_number": "530428198808084568",
                    "mobile": "13900000004",
                }
            ]
        }
    )

    username: Username = Field(description="用户名")
    password: NewPassword = Field(description="口令 (at least 8 characters)")
    credit_code: Code = Field(description="统一社会信用代码 (GB 32100)", max_length=18)
    name: Name = Field(description="单位名称 as registered")
    legal_rep_name: Name = Field(description="法定代表人姓名")
    legal_rep_id_number: Code = Field(description="法定代表人公民身份号码", max_length=18)
    mobile: Mobile = Field(description="联系手机")


class Registered(BaseModel):
    """注册成功 The new account."""

    id: str = Field(examples=["6f1c2d7e-8a0b-4c3d-9e2f-1a2b3c4d5e6f"])
    username: str = Field(examples=["wangwu"])
    kind: Literal["natural_person", "legal_person"]
    name: str = Field(examples=["王五"])
    realname_level: RealnameLevel = Field(examples=["L2"])
    links: dict[str, str] = Field(examples=[{"token": "/api/v1/auth/token", "me": "/api/v1/me"}])


class CreditCodeLookup(BaseModel):
    """法人库预填 Look a unit up by its 统一社会信用代码 to pre-fill the sign-up form."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"credit_code": _USCC}]})

    credit_code: Code = Field(max_length=18)


class LegalPersonPrefill(BaseModel):
    """What the sign-up form may pre-fill of a registered unit (the representative's number masked)."""

    credit_code: str = Field(examples=[_USCC])
    name: str = Field(examples=["元江县红河谷农业开发有限公司"])
    legal_rep_name: str = Field(examples=["赵*"])
    address: str | None = None
    status: str = Field(examples=["存续"])


class ActingForRequest(BaseModel):
    """以单位身份办事 Act for a legal person as its 经办人 (or 法定代表人)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"credit_code": "91530428MA6K000015"}]})

    credit_code: Code = Field(description="统一社会信用代码 of the legal person", max_length=18)


class ActingToken(BaseModel):
    """An access token that acts for a legal person, with the scope of authority in it."""

    access_token: str = Field(examples=["eyJhbGciOiJFZERTQSJ9…"])
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(
        description="Seconds until expiry (never past the authorisation's end)", examples=[3600]
    )
    acting_for: str = Field(examples=["91530428MA6K000015"])
    legal_person_name: str = Field(examples=["元江县城市建设投资有限公司"])
    role: Literal["agent", "legal_representative"]
    agent_scopes: list[str] = Field(examples=[["apply", "view"]])


class Company(BaseModel):
    """A legal person the caller may act for."""

    credit_code: str = Field(examples=["91530428MA6K000015"])
    name: str = Field(examples=["元江县城市建设投资有限公司"])
    role: Literal["agent", "legal_representative"]
    actions: list[AgentAction]
    item_codes: list[str] = Field(description="实施编码 the authority is limited to; empty: every item")
    valid_until: date | None = None


class AgentGrant(BaseModel):
    """授权经办人 Authorise a registered natural person to act for the legal person."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "agent_name": "王五",
                    "agent_id_number": _ID,
                    "actions": ["apply", "supplement", "view"],
                    "item_codes": [],
                    "valid_from": "2026-12-01",
                    "valid_until": "2027-11-30",
                }
            ]
        }
    )

    agent_name: Name = Field(description="经办人姓名")
    agent_id_number: Code = Field(description="经办人公民身份号码", max_length=18)
    actions: list[AgentAction] = Field(min_length=1, max_length=4, description="授权范围: 办理动作")
    item_codes: list[Code] = Field(
        default_factory=list,
        max_length=100,
        description="实施编码 the authority is limited to; empty: every item",
    )
    valid_from: date = Field(description="授权起始日期")
    valid_until: date = Field(description="授权截止日期 (inclusive, at most 5 years after the start)")


class AgentOut(BaseModel):
    """经办人授权 One authorisation as the legal person sees it (the agent's number masked)."""

    id: uuid.UUID
    agent_name: str = Field(examples=["王五"])
    agent_id_number_masked: str = Field(examples=["530428********1232"])
    actions: list[AgentAction]
    item_codes: list[str]
    valid_from: date
    valid_until: date
    status: Literal["active", "pending", "expired", "revoked"] = Field(
        description="有效 / 未生效 / 已过期 / 已撤销", examples=["active"]
    )
    granted_at: str = Field(examples=["2026-12-01T08:00:00+00:00"])


class RealnameVerificationCreate(BaseModel):
    """实名核验 A 受理人 at a window raises an account to L3 after checking the person or company."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id_type": "111",
                    "id_number": _ID,
                    "method": "in_person",
                    "reason": "本人持居民身份证原件到元江县政务服务中心 3 号窗口现场核验",
                }
            ]
        },
    )

    id_type: Literal["111", "001"] = Field(
        default="111", description="证件类型: 111 居民身份证, 001 统一社会信用代码"
    )
    id_number: Annotated[str, StringConstraints(min_length=18, max_length=18)] = Field(
        description="证件号码 as read from the original document at the window"
    )
    method: Literal["in_person", "trusted_channel"] = Field(
        description="in_person 现场核验 (the original document at a window) or trusted_channel 可信渠道"
    )
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=500)] = Field(
        description="核验依据: what was checked, where (kept in the record and the audit log)"
    )


class RealnameVerified(BaseModel):
    """The account's new level and the record of the verification."""

    verification_id: uuid.UUID
    account_id: str
    name_masked: str | None = Field(description="姓名 / 单位名称, masked")
    level_before: RealnameLevel | None
    realname_level: RealnameLevel
    method: str
