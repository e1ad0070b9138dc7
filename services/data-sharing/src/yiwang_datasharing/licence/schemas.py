"""API models of the e-licence library (电子证照库)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from yiwang_common.contracts.common import ELicence, Organisation
from yiwang_common.contracts.datasharing import LicenceStatus
from yiwang_common.text import Name, Text

#: 电子证照标识 (GB/T 36904): dot-separated codes, letters and digits.
IdentifierPath = Annotated[str, Path(pattern=r"^[0-9A-Za-z.]{1,128}$", description="电子证照标识")]
#: 核验码 in the QR code: URL-safe base64 of 24 random bytes.
TokenPath = Annotated[str, Path(pattern=r"^[0-9A-Za-z_-]{16,64}$", description="证照核验码")]
TypeCodePath = Annotated[str, Path(pattern=r"^[0-9A-Z]{21}$", description="证照类型代码 (21 位)")]
OrgCodePath = Annotated[str, Path(pattern=r"^[0-9A-Z]{18}$", description="统一社会信用代码")]
KidPath = Annotated[str, Path(pattern=r"^[0-9A-Za-z_-]{1,64}$", description="签名密钥标识")]

_IDENTIFIER = "1.2.156.3005.2.11100000000013338W032.11530428015176456L.20261123000001.001.Z"
#: 证照核验结果: expired 已过期 follows the dates; invalid 无效 = the signature does not hold.
VerificationOutcome = Literal["valid", "invalid", "suspended", "revoked", "expired"]
RESULT_TEXT: dict[str, str] = {
    "valid": "证照有效",
    "invalid": "证照无效（签名校验未通过）",
    "suspended": "证照已暂停使用",
    "revoked": "证照已撤销",
    "expired": "证照已过期",
}


class LicenceSchema(ELicence):
    """电子证照 E-licence as registered in the library (GB/T 36902/36903 fields plus status)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "identifier": _IDENTIFIER,
                    "type_code": "11100000000013338W032",
                    "type_name": "建筑工程施工许可证",
                    "licence_no": "530428202611230101",
                    "version": "001",
                    "holder_name": "元江县城市建设投资有限公司",
                    "holder_code": "91530428MA6K000015",
                    "holder_code_type": "001",
                    "issuer": {"name": "元江县住房和城乡建设局", "code": "11530428015176456L"},
                    "issued_on": "2026-11-30",
                    "valid_from": "2026-11-30",
                    "jurisdiction_code": "530428",
                    "trust_level": "A",
                    "case_no": "53042820261123000001E",
                    "item_code": "11530428015176456L4000112001000",
                    "status": "valid",
                    "registered_at": "2026-11-30T08:00:00Z",
                }
            ]
        }
    )

    status: str = Field(
        description="证照状态: valid 有效 / suspended 暂停使用 / revoked 撤销 / expired 已过期",
        examples=["valid"],
    )
    registered_at: datetime = Field(description="入库时间")
    signature_alg: str | None = Field(default=None, description="签名算法: Ed25519 / SM2-SM3")
    signature_kid: str | None = Field(default=None, description="签名密钥标识")


class HeldLicenceSchema(LicenceSchema):
    """我的证照 A licence of the caller's own case, with what the QR code and reuse need."""

    verification_token: str | None = Field(description="核验码 (二维码内容), 不是证照编号")
    document_sha256: str | None = Field(description="签名件 (signed payload) 的 SHA-256")
    document_size: int | None = Field(description="签名件字节数")


class SignatureSchema(BaseModel):
    """签名值 Signature of a signed licence document."""

    model_config = ConfigDict(extra="forbid")

    alg: Literal["Ed25519", "SM2-SM3"] = Field(description="签名算法")
    kid: str = Field(max_length=64, description="签名密钥标识 (签发单位密钥)")
    value: str = Field(max_length=200, description="签名值 (base64url, 无填充)")


class SignedDocumentSchema(BaseModel):
    """证照签名件 The signed licence: its RFC 8785 canonical payload, exactly as signed, and the signature."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "payload": '{"licence":{"identifier":"' + _IDENTIFIER + '"},"protected":'
                    '{"alg":"Ed25519","kid":"11530428015176456L-ed25519-1a2b3c4d","signed_at":"2026-11-30T08:00:00Z"}}',
                    "signature": {
                        "alg": "Ed25519",
                        "kid": "11530428015176456L-ed25519-1a2b3c4d",
                        "value": "c2lnbmF0dXJl",
                    },
                }
            ]
        },
    )

    payload: str = Field(max_length=64_000, description="规范化 JSON (RFC 8785) 签名原文")
    signature: SignatureSchema


class HolderLicences(BaseModel):
    """持证主体的证照 The licences the library holds for one holder (newest first)."""

    holder_code: str = Field(examples=["91530428MA6K000015"])
    items: list[LicenceSchema]


class LicenceVerificationSchema(BaseModel):
    """证照核验结果 What a public verification shows: enough to trust the licence, nothing personal.

    No 证件号码, phone, address, 照面信息, licence number or case: only whether the licence is in
    force, of what kind, issued by whom and to whom (a person's name masked), and its dates. When
    the signature does not hold, nothing of the licence is shown at all.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "result": "valid",
                    "result_text": "证照有效",
                    "checked_at": "2026-12-01T08:00:00Z",
                    "type_name": "建筑工程施工许可证",
                    "holder_name": "张*",
                    "issuer_name": "元江县住房和城乡建设局",
                    "issued_on": "2026-11-30",
                    "valid_from": "2026-11-30",
                    "valid_until": None,
                }
            ]
        }
    )

    result: VerificationOutcome = Field(description="核验结论")
    result_text: str = Field(description="核验结论 (中文)")
    checked_at: datetime = Field(description="核验时间")
    type_name: str | None = Field(default=None, description="证照类型名称")
    holder_name: str | None = Field(default=None, description="持证主体 (自然人仅显示姓氏)")
    issuer_name: str | None = Field(default=None, description="证照颁发机构")
    issued_on: date | None = Field(default=None, description="证照颁发日期")
    valid_from: date | None = Field(default=None, description="有效期起始日期")
    valid_until: date | None = Field(default=None, description="有效期截止日期 (空 = 长期)")


class StatusChange(BaseModel):
    """证照状态变更 Suspend (暂停), reinstate (恢复为有效) or revoke (撤销, final)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"status": "revoked", "reason": "以欺骗手段取得许可"}]},
    )

    status: LicenceStatus = Field(description="新状态")
    reason: Text = Field(description="变更原因")


class DataItem(BaseModel):
    """照面信息项 One data item a licence type carries."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=64, description="信息项标识")
    name: Name = Field(description="信息项名称")
    required: bool = Field(default=True, description="是否必填")


class LicenceTypeBody(BaseModel):
    """证照目录 Licence catalogue entry (GB/T 36902 目录信息)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "建筑工程施工许可证",
                    "category": "证照",
                    "defining_org": {"name": "住房和城乡建设部", "code": "11100000000013338W"},
                    "defining_level": "国家级",
                    "issuing_level": "区县级",
                    "holder_category": "法人",
                    "validity_days": None,
                    "data_items": [{"key": "project_name", "name": "工程名称", "required": True}],
                }
            ]
        },
    )

    name: Name = Field(description="证照类型名称")
    category: Literal["证照", "批文", "证明", "材料", "证件"] = Field(default="证照", description="目录类别")
    defining_org: Organisation = Field(description="证照定义机构及其代码")
    defining_level: Literal["国家级", "省部级", "地市级", "区县级", "其他"] = Field(
        description="证照定义机构级别"
    )
    issuing_level: Literal["国家级", "省级", "地市级", "区县级", "乡镇级", "其他"] = Field(
        description="证照颁发机构级别"
    )
    holder_category: Literal["自然人", "法人", "其他组织", "自然人或法人"] = Field(description="持证主体类别")
    validity_days: int | None = Field(default=None, ge=1, le=36_600, description="有效期限 (日); 空 = 长期")
    data_items: list[DataItem] = Field(default_factory=list, max_length=100, description="照面信息项")


class LicenceTypeSchema(LicenceTypeBody):
    """证照目录 entry with its code."""

    code: str = Field(description="证照类型代码 (21 位)", examples=["11100000000013338W032"])
    updated_at: datetime


class SigningKeySchema(BaseModel):
    """签名公钥 A unit's public signing key (retired keys still verify what they signed)."""

    kid: str = Field(examples=["11530428015176456L-ed25519-1a2b3c4d"])
    org_code: str = Field(description="签发单位统一社会信用代码")
    algorithm: str = Field(description="ed25519 / sm2")
    public_key: str = Field(description="公钥 (hex: Ed25519 32 字节 / SM2 未压缩 x‖y)")
    created_at: datetime
    retired_at: datetime | None = Field(default=None, description="停用时间 (轮换后)")


def data_items_from(data: dict[str, Any]) -> list[dict[str, Any]]:
    """照面信息项 inferred from a licence's data, for a type the catalogue does not know yet."""
    return [{"key": key, "name": key, "required": True} for key in sorted(data)]
