"""API models of the e-licence library (电子证照库)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from yiwang_common.contracts.common import ELicence

#: 电子证照标识 (GB/T 36904): dot-separated codes, letters and digits.
IdentifierPath = Annotated[str, Path(pattern=r"^[0-9A-Za-z.]{1,128}$", description="电子证照标识")]


class LicenceSchema(ELicence):
    """电子证照 E-licence as registered in the library (GB/T 36902/36903 fields plus status)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "identifier": "1.2.156.3005.2.11100000000013338W032.11530428015176456L.20261123000001.001.Z",
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

    status: str = Field(description="证照状态: valid 有效", examples=["valid"])
    registered_at: datetime = Field(description="入库时间")


class HolderLicences(BaseModel):
    """持证主体的证照 The licences the library holds for one holder (newest first)."""

    holder_code: str = Field(examples=["91530428MA6K000015"])
    items: list[LicenceSchema]


class LicenceVerificationSchema(BaseModel):
    """证照核验结果 What a public verification shows: enough to trust the licence, nothing personal.

    No 证件号码, phone, address, 照面信息 or case: only whether the identifier names a licence in
    force, of what kind, issued by whom and to whom (a person's name masked).
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "identifier": "1.2.156.3005.2.11100000000013338W032.11530428015176456L.20261123000001.001.Z",
                    "type_name": "建筑工程施工许可证",
                    "holder_name": "元江县城市建设投资有限公司",
                    "issuer_name": "元江县住房和城乡建设局",
                    "issued_on": "2026-11-30",
                    "valid_from": "2026-11-30",
                    "valid_until": None,
                    "status": "valid",
                }
            ]
        }
    )

    identifier: str = Field(description="电子证照标识")
    type_name: str = Field(description="证照类型名称")
    holder_name: str = Field(description="持证主体 (自然人仅显示姓氏)")
    issuer_name: str = Field(description="证照颁发机构")
    issued_on: date = Field(description="证照颁发日期")
    valid_from: date = Field(description="有效期起始日期")
    valid_until: date | None = Field(default=None, description="有效期截止日期 (空 = 长期)")
    status: str = Field(examples=["valid"], description="证照状态: valid 有效 / revoked 已注销")
