"""ORM of workflow definitions: the published head per item, every version, and migrations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_business.db import Base
from yiwang_common.db import JSONType, TZDateTime, utcnow


class WorkflowDefinition(Base):
    """流程定义 The published definition of one item (its head); item ``*`` is the default for every other item."""

    __tablename__ = "workflow_definition"

    item_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    # [{key, name, role, kind}], in order; the last is the 决定 step.
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False)
    # Gateways and flows of a graph definition; both empty for steps that run in order.
    gateways: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType, nullable=True)
    flows: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType, nullable=True)
    licence_type_code: Mapped[str | None] = mapped_column(String(21), nullable=True)
    licence_type_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    licence_validity_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    decision_doc_prefix: Mapped[str] = mapped_column(String(32), nullable=False)
    # 照面信息 label -> form field names to look for, first present wins.
    licence_fields: Mapped[dict[str, list[str]]] = mapped_column(JSONType, nullable=False, default=dict)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, nullable=False, default=utcnow)


class ProcessVersion(Base):
    """流程定义版本 Every version of an item's process: drafts, the published one, superseded ones."""

    __tablename__ = "process_version"
    __table_args__ = (
        UniqueConstraint("item_code", "version"),
        # At most one published version per item.
        Index(
            "uq_process_version_published",
            "item_code",
            unique=True,
            postgresql_where=text("status = 'published'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    item_code: Mapped[str] = mapped_column(String(64), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    # draft 草稿 / published 已发布 / superseded 已停用
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    # The WorkflowBody, as the administrator wrote it or the BPMN import made it.
    definition: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    source: Mapped[str] = mapped_column(String(8), nullable=False)
    created_by: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, nullable=False, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(TZDateTime, nullable=True)


class WorkflowMigration(Base):
    """版本迁移记录 A logged move of running cases from one version of an item's process to another."""

    __tablename__ = "workflow_migration"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    item_code: Mapped[str] = mapped_column(String(64), nullable=False)
    from_version: Mapped[int] = mapped_column(Integer, nullable=False)
    to_version: Mapped[int] = mapped_column(Integer, nullable=False)
    case_nos: Mapped[list[str]] = mapped_column(JSONType, nullable=False)
    step_map: Mapped[dict[str, str]] = mapped_column(JSONType, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    actor_id: Mapped[str] = mapped_column(String(64), nullable=False)
    actor_name: Mapped[str] = mapped_column(String(100), nullable=False)
    migrated_at: Mapped[datetime] = mapped_column(TZDateTime, nullable=False, default=utcnow)
