"""Events the data-sharing platform (政务服务数据共享平台) publishes."""

from __future__ import annotations

from datetime import datetime

from yiwang_common.contracts.common import ELicence
from yiwang_common.events.envelope import EventData


class LicenceRegistered(EventData):
    """证照已入库: an e-licence entered the unified e-licence library (统一电子证照库)."""

    subject = "yiwang.datasharing.licence.registered.v1"

    licence: ELicence
    registered_at: datetime
