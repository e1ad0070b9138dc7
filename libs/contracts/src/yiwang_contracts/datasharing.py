"""Events the data-sharing platform (政务服务数据共享平台) publishes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from yiwang_contracts.common import ELicence
from yiwang_contracts.envelope import EventData

#: 证照状态 as stored: valid 有效 / suspended 暂停使用 / revoked 撤销 (expired 失效 is computed from the dates).
LicenceStatus = Literal["valid", "suspended", "revoked"]


class LicenceRegistered(EventData):
    """证照已入库: an e-licence entered the unified e-licence library (统一电子证照库)."""

    subject = "yiwang.datasharing.licence.registered.v1"

    licence: ELicence
    registered_at: datetime
    signature_alg: str | None = Field(default=None, description="签名算法: Ed25519 / SM2-SM3")
    signature_kid: str | None = Field(default=None, description="签名密钥标识 (the issuing unit's key id)")


class LicenceStatusChanged(EventData):
    """证照状态变更: a licence was suspended (暂停), reinstated (恢复) or revoked (撤销).

    Verification reflects the new status at once; the event tells the other platforms.
    """

    subject = "yiwang.datasharing.licence.status_changed.v1"

    identifier: str = Field(description="电子证照标识")
    case_no: str = Field(description="签发证照对应办件编号")
    status: LicenceStatus
    previous_status: LicenceStatus
    reason: str = Field(description="变更原因 (撤销/暂停原因)")
    changed_by: str = Field(description="操作人")
    changed_at: datetime
