"""事项 Catalogue item ORM model (a projection of management's ItemPublished)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_common.db import JSONType, TZDateTime, utcnow
from yiwang_gateway.db import Base


class CatalogueItem(Base):
    """事项 Catalogue item, latest published version only."""

    __tablename__ = "catalogue_item"

    item_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    basic_code: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    item_type: Mapped[str] = mapped_column(String(50))
    org: Mapped[dict[str, Any]] = mapped_column(JSONType)
    region_code: Mapped[str] = mapped_column(String(6))
    service_object: Mapped[list[Any]] = mapped_column(JSONType)
    scope: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[list[Any]] = mapped_column(JSONType)
    conditions: Mapped[list[Any]] = mapped_column(JSONType)
    materials: Mapped[list[Any]] = mapped_column(JSONType)
    limits: Mapped[dict[str, Any]] = mapped_column(JSONType)
    form_schema: Mapped[dict[str, Any]] = mapped_column(JSONType)
    guide: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # 分类维度 the portal filters on (层级, 主题, 服务对象, 网办 …), from ItemPublished's additive fields.
    facets: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, server_default="{}")
    published_at: Mapped[datetime] = mapped_column(TZDateTime())
    updated_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
