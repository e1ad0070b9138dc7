"""ORM of the e-licence library (电子证照库), fields after GB/T 36902/36903."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_common.db import JSONType, TZDateTime, utcnow
from yiwang_datasharing.db import Base


class ELicenceRecord(Base):
    """电子证照 E-licence; who may read it follows the case (签发证照对应办件编号)."""

    __tablename__ = "e_licence"

    identifier: Mapped[str] = mapped_column(String(128), primary_key=True)
    type_code: Mapped[str] = mapped_column(String(32))
    type_name: Mapped[str] = mapped_column(String(100))
    licence_no: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(8))
    holder_name: Mapped[str] = mapped_column(String(200))
    holder_code: Mapped[str] = mapped_column(String(64))
    holder_code_type: Mapped[str] = mapped_column(String(8))
    issuer_name: Mapped[str] = mapped_column(String(200))
    issuer_code: Mapped[str] = mapped_column(String(32))
    issued_on: Mapped[date] = mapped_column(Date)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    jurisdiction_code: Mapped[str] = mapped_column(String(12))
    trust_level: Mapped[str] = mapped_column(String(1))
    case_no: Mapped[str] = mapped_column(String(32), index=True)
    item_code: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), default="valid")
    registered_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
