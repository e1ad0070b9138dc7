"""ORM of workflow definitions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_business.db import Base
from yiwang_common.db import JSONType, TZDateTime, utcnow


class WorkflowDefinition(Base):
    """流程定义 Workflow definition of one item; item ``*`` is the default for every other item."""

    __tablename__ = "workflow_definition"

    item_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    # [{key, name, role, kind}], in order; the last is the 决定 step.
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False)
    licence_type_code: Mapped[str | None] = mapped_column(String(21), nullable=True)
    licence_type_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    licence_validity_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    decision_doc_prefix: Mapped[str] = mapped_column(String(32), nullable=False)
    # 照面信息 label -> form field names to look for, first present wins.
    licence_fields: Mapped[dict[str, list[str]]] = mapped_column(JSONType, nullable=False, default=dict)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, nullable=False, default=utcnow)
