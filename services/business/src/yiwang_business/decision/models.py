"""ORM of decisions."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_business.db import Base
from yiwang_common.db import TZDateTime


class Decision(Base):
    """决定书 Decision document: 准予 or 不予行政许可决定书."""

    __tablename__ = "decision"
    # Numbers run per unit and year, so only the pair is unique.
    __table_args__ = (UniqueConstraint("org_code", "document_no"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    case_no: Mapped[str] = mapped_column(ForeignKey("business_case.case_no"), nullable=False, unique=True)
    outcome: Mapped[str] = mapped_column(String(20), nullable=False)
    document_no: Mapped[str] = mapped_column(String(100), nullable=False)
    title: Mapped[str] = mapped_column(String(100), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    decided_at: Mapped[datetime] = mapped_column(TZDateTime, nullable=False)
    decider_id: Mapped[str] = mapped_column(String(64), nullable=False)
    decider_name: Mapped[str] = mapped_column(String(100), nullable=False)
    org_code: Mapped[str] = mapped_column(String(64), nullable=False)
    org_name: Mapped[str] = mapped_column(String(500), nullable=False)
