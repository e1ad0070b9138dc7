"""API models of the portal's licence domain."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from yiwang_common.text import Code

#: 核验码 in the QR code (URL-safe base64 of 24 random bytes), never the licence number.
TokenPath = Annotated[str, Path(pattern=r"^[0-9A-Za-z_-]{16,64}$", description="证照核验码")]
IDENTIFIER_PATTERN = r"^1\.2\.156\.3005\.2\.[0-9A-Za-z.]{1,110}$"


class MyLicence(BaseModel):
    """我的证照 One licence the caller holds, with its QR code for verification."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "identifier": "1.2.156.3005.2.11100000000013338W032.11530428015176456L.53042820261202000001.001.Q",
                    "type_code": "11100000000013338W032",
                    "type_name": "建筑工程施工许可证",
                    "licence_no": "53042820261202000001",
                    "holder_name": "张三",
                    "issuer_name": "元江县住房和城乡建设局",
                    "issued_on": "2026-12-02",
                    "valid_from": "2026-12-02",
                    "valid_until": None,
                    "status": "valid",
                    "status_text": "有效",
                    "case_no": "53042820261202000001V",
                    "data": {"工程名称": "元江县第一中学教学楼"},
                    "verify_url": "http://127.0.0.1:8000/licences/verify/3q2-7wEAAQIDBAUGBwgJCgsMDQ4PEBES",
                    "qr_svg": "<svg …></svg>",
                }
            ]
        }
    )

    identifier: str = Field(description="电子证照标识 (GB/T 36904)")
    type_code: str = Field(description="证照类型代码")
    type_name: str = Field(description="证照类型名称")
    licence_no: str = Field(description="证照编号")
    holder_name: str = Field(description="持证主体")
    issuer_name: str = Field(description="证照颁发机构")
    issued_on: date = Field(description="颁发日期")
    valid_from: date = Field(description="有效期起始")
    valid_until: date | None = Field(default=None, description="有效期截止 (空 = 长期)")
    status: Literal["valid", "suspended", "revoked", "expired"] = Field(description="证照状态")
    status_text: str = Field(description="证照状态 (中文)")
    case_no: str = Field(description="签发证照对应办件编号")
    data: dict[str, str] = Field(default_factory=dict, description="照面信息")
    verify_url: str | None = Field(description="核验页地址 (二维码内容); 未签名的证照为空")
    qr_svg: str | None = Field(description="核验二维码 (inline SVG, 可直接嵌入页面)")


class Verification(BaseModel):
    """证照核验结果 What the public sees: the verdict, the type, the masked holder, the issuer, the dates."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "result": "valid",
                    "result_text": "证照有效",
                    "checked_at": "2026-12-02T08:00:00Z",
                    "type_name": "建筑工程施工许可证",
                    "holder_name": "张*",
                    "issuer_name": "元江县住房和城乡建设局",
                    "issued_on": "2026-12-02",
                    "valid_from": "2026-12-02",
                    "valid_until": None,
                }
            ]
        }
    )

    result: Literal["valid", "invalid", "suspended", "revoked", "expired"] = Field(description="核验结论")
    result_text: str = Field(description="核验结论 (中文)")
    checked_at: datetime = Field(description="核验时间")
    type_name: str | None = Field(default=None, description="证照类型名称")
    holder_name: str | None = Field(default=None, description="持证主体 (自然人仅显示姓氏)")
    issuer_name: str | None = Field(default=None, description="证照颁发机构")
    issued_on: date | None = Field(default=None, description="颁发日期")
    valid_from: date | None = Field(default=None, description="有效期起始")
    valid_until: date | None = Field(default=None, description="有效期截止 (空 = 长期)")


class LicenceSelection(BaseModel):
    """以证代材 A licence from the e-licence library offered for one material instead of a scan."""

    model_config = ConfigDict(extra="forbid")

    material_code: Code = Field(description="材料编码", examples=["M05"])
    identifier: str = Field(pattern=IDENTIFIER_PATTERN, max_length=128, description="电子证照标识")
