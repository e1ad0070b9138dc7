"""ORM models of the catalogue: 目录清单 entries and every version of every 实施清单 entry."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, Uuid, text
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
    #: sha256 of the spreadsheet row (its cells and its material rows) this content came from;
    #: an import skips a row whose hash matches without validating it again. Any other change
    #: of the content clears it.
    source_hash: Mapped[str | None] = mapped_column(String(64))


#: Import job states: waiting for a worker, being worked on, and the four ends.
IMPORT_QUEUED = "queued"
IMPORT_RUNNING = "running"
IMPORT_REJECTED = "rejected"
IMPORT_DONE = "imported"
IMPORT_DONE_WITH_ERRORS = "imported_with_errors"
IMPORT_FAILED = "failed"
IMPORT_FINISHED = (IMPORT_REJECTED, IMPORT_DONE, IMPORT_DONE_WITH_ERRORS, IMPORT_FAILED)
IMPORT_STATUS_NAMES = {
    IMPORT_QUEUED: "排队中",
    IMPORT_RUNNING: "正在导入",
    IMPORT_REJECTED: "有错误，未导入",
    IMPORT_DONE: "导入完成",
    IMPORT_DONE_WITH_ERRORS: "已导入有效行（有错误）",
    IMPORT_FAILED: "导入失败",
}
#: Phases of a running job: every row is validated (and checked against the workflow) before
#: the first is written, so a file with errors imports nothing unless forced.
PHASE_VALIDATING = "validating"
PHASE_IMPORTING = "importing"
PHASE_DONE = "done"
PHASE_NAMES = {PHASE_VALIDATING: "校验", PHASE_IMPORTING: "写入", PHASE_DONE: "完成"}


class CatalogueImport(Base):
    """导入任务 One spreadsheet import, run in the background: progress, outcome, who asked for it."""

    __tablename__ = "catalogue_import"
    __table_args__ = (Index("ix_catalogue_import_status", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    file_format: Mapped[str] = mapped_column(String(8))
    sha256: Mapped[str] = mapped_column(String(64))
    # queued | running | rejected (errors, nothing imported) | imported | imported_with_errors | failed
    status: Mapped[str] = mapped_column(String(24))
    phase: Mapped[str] = mapped_column(String(16))
    total_rows: Mapped[int]
    #: Rows done in the current phase (validated, then written).
    processed_rows: Mapped[int]
    #: Rows that passed validation and the workflow's checks (those the import writes).
    valid_rows: Mapped[int]
    #: The file row up to which the writing phase has committed: where a resumed job goes on.
    written_through_row: Mapped[int]
    #: Rows the writing phase goes through (valid rows not skipped as unchanged by their hash).
    write_rows: Mapped[int]
    #: Rows with at least one error.
    error_rows: Mapped[int]
    error_count: Mapped[int]
    created: Mapped[int]
    updated: Mapped[int]
    unchanged: Mapped[int]
    published: Mapped[int]
    forced: Mapped[bool]
    publish: Mapped[bool]
    #: Who asked: the job runs with these rights (sub, name, kind, roles, org_code).
    principal: Mapped[dict[str, Any]] = mapped_column(JSONType)
    attempts: Mapped[int]
    failure: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    started_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    #: Set by the worker while it runs the job; a stale one means the worker died (lease).
    heartbeat_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(TZDateTime)


class CatalogueImportError(Base):
    """导入错误 One error of an import: sheet, row, column, reason (paged by the job endpoint)."""

    __tablename__ = "catalogue_import_error"

    job_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("catalogue_import.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(primary_key=True)
    sheet: Mapped[str] = mapped_column(String(32))
    row: Mapped[int]
    column: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)


class CatalogueImportFile(Base):
    """The uploaded file of a job, kept until the job ends (a restarted worker reads it again)."""

    __tablename__ = "catalogue_import_file"

    job_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("catalogue_import.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[bytes] = mapped_column(LargeBinary)
