"""ORM of the item scope (事项实施主体): the one fact about an item this platform needs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_common.db import TZDateTime, utcnow
from yiwang_datasharing.db import Base


class ItemScope(Base):
    """事项实施主体 Who implements an item, projected from management's ``item.published``.

    Case records, materials and licences are readable by staff of ``org_code`` and by supervisors
    whose region covers ``region_code``; nothing else of the item is kept here.
    """

    __tablename__ = "item_scope"

    item_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_code: Mapped[str] = mapped_column(String(32), index=True)
    org_name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
