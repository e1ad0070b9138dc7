"""ORM model of the item catalogue (事项目录)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_common.db import JSONType, TZDateTime
from yiwang_management.db import Base

ITEM_IN_FORCE = "in_force"
ITEM_CANCELLED = "cancelled"


class Item(Base):
    """事项 Item: one 实施清单 entry and its 办事指南, at its current version."""

    __tablename__ = "item"

    item_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    basic_code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    item_type: Mapped[str] = mapped_column(String(32))
    version: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    org_name: Mapped[str] = mapped_column(String(200))
    # Staff visibility of cases is decided by this code, so lookups by it must be cheap.
    org_code: Mapped[str] = mapped_column(String(32), index=True)
    region_code: Mapped[str] = mapped_column(String(12))
    service_object: Mapped[list[str]] = mapped_column(JSONType)
    scope: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[list[str]] = mapped_column(JSONType)
    conditions: Mapped[list[str]] = mapped_column(JSONType)
    materials: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    statutory_limit_days: Mapped[int]
    promised_limit_days: Mapped[int]
    case_type: Mapped[str] = mapped_column(String(1))
    fee: Mapped[str] = mapped_column(String(500))
    form_schema: Mapped[dict[str, Any]] = mapped_column(JSONType)
    guide: Mapped[dict[str, Any]] = mapped_column(JSONType)
    published_at: Mapped[datetime] = mapped_column(TZDateTime)
