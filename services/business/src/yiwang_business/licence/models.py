"""ORM of the e-licences this system issues."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_business.db import Base
from yiwang_common.db import JSONType, TZDateTime, utcnow


class ELicence(Base):
    """电子证照 E-licence (GB/T 36902/36903 metadata, GB/T 36904 identifier)."""

    __tablename__ = "e_licence"

    identifier: Mapped[str] = mapped_column(String(200), primary_key=True)
    case_no: Mapped[str] = mapped_column(ForeignKey("business_case.case_no"), nullable=False, unique=True)
    type_code: Mapped[str] = mapped_column(String(21), nullable=False)
    type_name: Mapped[str] = mapped_column(String(100), nullable=False)
    licence_no: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    version: Mapped[str] = mapped_column(String(3), nullable=False)
    holder_name: Mapped[str] = mapped_column(String(200), nullable=False)
    holder_code: Mapped[str] = mapped_column(String(64), nullable=False)
    holder_code_type: Mapped[str] = mapped_column(String(10), nullable=False)
    issuer_name: Mapped[str] = mapped_column(String(500), nullable=False)
    issuer_code: Mapped[str] = mapped_column(String(64), nullable=False)
    issued_on: Mapped[date] = mapped_column(Date, nullable=False)
    valid_from: Mapped[date] = mapped_column(Date, nullable=False)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    jurisdiction_code: Mapped[str] = mapped_column(String(12), nullable=False)
    trust_level: Mapped[str] = mapped_column(String(1), nullable=False)
    item_code: Mapped[str] = mapped_column(String(64), nullable=False)
    data: Mapped[dict[str, str]] = mapped_column(JSONType, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, nullable=False, default=utcnow)
