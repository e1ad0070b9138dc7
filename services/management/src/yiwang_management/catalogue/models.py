"""ORM models of the catalogue: 目录清单 entries and every version of every 实施清单 entry."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_common.db import JSONType, TZDateTime
from yiwang_management.db import Base

DRAFT = "draft"
SUBMITTED = "submitted"
APPROVED = "approved"
PUBLISHED = "published"
SUPERSEDED = "superseded"
WITHDRAWN = "withdrawn"
#: States in which a version is still being prepared; at most one per item at a time.
OPEN_STATES = (DRAFT, SUBMITTED, APPROVED)
STATUS_NAMES = {
    DRAFT: "草稿",
    SUBMITTED: "已提交待审核",
    APPROVED: "已审核待发布",
    PUBLISHED: "已发布",
    SUPERSEDED: "已被新版本替代",
    WITHDRAWN: "已撤销",
}


class CatalogueEntry(Base):
    """目录清单 Catalogue entry: compiled once, identical in every region and level (CAT-02)."""

    __tablename__ = "catalogue_entry"

    basic_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    item_type: Mapped[str] = mapped_column(String(2))
    legal_basis: Mapped[list[str]] = mapped_column(JSONType)
    # 主项 → 子项: a sub-item names its main item; 办理项 live inside the implementation entry.
    parent_basic_code: Mapped[str | None] = mapped_column(String(12))
    level_scope: Mapped[list[str]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(TZDateTime)


class ItemVersion(Base):
    """实施清单版本 One version of an implementation entry; rows are never rewritten once published."""

    __tablename__ = "item_version"
    __table_args__ = (
        # At most one version in preparation and one in force per item, whatever races.
        Index(
            "uq_item_version_open",
            "item_code",
            unique=True,
            postgresql_where=text("status IN ('draft', 'submitted', 'approved')"),
        ),
        Index(
            "uq_item_version_published",
            "item_code",
            unique=True,
            postgresql_where=text("status = 'published'"),
        ),
        Index("ix_item_version_org_code_status", "org_code", "status"),
    )

    item_code: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    basic_code: Mapped[str] = mapped_column(String(12), index=True)
    status: Mapped[str] = mapped_column(String(16))
    # The owner (谁编制、谁维护): only staff of this body may edit or submit the entry.
    org_code: Mapped[str] = mapped_column(String(18))
    region_code: Mapped[str] = mapped_column(String(6))
    content: Mapped[dict[str, Any]] = mapped_column(JSONType)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    published_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(TZDateTime)


class CatalogueImport(Base):
    """导入任务 One spreadsheet import: what was in the file, what was imported, every row error."""

    __tablename__ = "catalogue_import"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    file_format: Mapped[str] = mapped_column(String(8))
    sha256: Mapped[str] = mapped_column(String(64))
    # rejected (errors, nothing imported) | imported | imported_with_errors (forced)
    status: Mapped[str] = mapped_column(String(24))
    total_rows: Mapped[int]
    valid_rows: Mapped[int]
    created: Mapped[int]
    updated: Mapped[int]
    unchanged: Mapped[int]
    published: Mapped[int]
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    forced: Mapped[bool]
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    finished_at: Mapped[datetime] = mapped_column(TZDateTime)
