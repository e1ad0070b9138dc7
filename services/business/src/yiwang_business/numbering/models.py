"""ORM of numbering: one row per counter, scope and period."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_business.db import Base


class Counter(Base):
    """计数器 Counter, e.g. ``("decision", <org code>, "2026")`` or ``("licence", <region>, "20261123")``."""

    __tablename__ = "counter"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False)
