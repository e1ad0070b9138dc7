"""ORM models of cases (办件), their steps (办理环节) and the daily number sequence."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_common.contracts.lifecycle import LABELS, CaseStatus
from yiwang_common.db import JSONType, TZDateTime
from yiwang_management.db import Base

# The lifecycle is defined once, in the contracts; these names keep the service's code short.
PENDING_ACCEPTANCE = CaseStatus.PENDING_ACCEPTANCE
AWAITING_SUPPLEMENT = CaseStatus.AWAITING_SUPPLEMENT
ACCEPTED = CaseStatus.ACCEPTED
NOT_ACCEPTED = CaseStatus.NOT_ACCEPTED
COMPLETED = CaseStatus.COMPLETED

STATUS_TEXT: Mapping[str, str] = LABELS


class Case(Base):
    """办件 Case: one application from registration to completion."""

    # CASE is an SQL keyword; a plain name keeps hand-written SQL and psql sessions simple.
    __tablename__ = "case_file"
    __table_args__ = (
        Index("ix_case_file_org_code_registered_at", "org_code", "registered_at"),
        Index("ix_case_file_org_code_status_registered_at", "org_code", "status", "registered_at"),
        # Region-wide lists of a city or a province (电子监察, 中心管理员): newest first.
        Index("ix_case_file_registered_at_case_no", "registered_at", "case_no"),
        # 联办件 lists of the console (ADR 0121): joint cases only, newest first.
        Index(
            "ix_case_file_joint_accepted_at",
            "accepted_at",
            "case_no",
            postgresql_where=text("item_code = 'JOINT'"),
        ),
    )

    case_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    # One case per application, whatever the gateway re-sends.
    application_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    item_code: Mapped[str] = mapped_column(String(64))
    item_name: Mapped[str] = mapped_column(String(200))
    org_code: Mapped[str] = mapped_column(String(32))
    org_name: Mapped[str] = mapped_column(String(200))
    applicant_id: Mapped[str] = mapped_column(String(64))
    applicant: Mapped[dict[str, Any]] = mapped_column(JSONType)
    channel: Mapped[str] = mapped_column(String(16))
    form: Mapped[dict[str, Any]] = mapped_column(JSONType)
    materials: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    # Snapshot of the item version applied for, so later versions cannot move the goalposts.
    required_materials: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    statutory_limit_days: Mapped[int]
    promised_limit_days: Mapped[int]
    missing_materials: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(32))
    submitted_at: Mapped[datetime] = mapped_column(TZDateTime)
    registered_at: Mapped[datetime] = mapped_column(TZDateTime)
    supplement_notice_no: Mapped[str | None] = mapped_column(String(80))
    supplement_notice_text: Mapped[str | None] = mapped_column(Text)
    supplement_requested_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    last_supplemented_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    acceptance_notice_no: Mapped[str | None] = mapped_column(String(80))
    accepted_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    #: 受理窗口 ``{统一社会信用代码}/{窗口编码}`` of the acceptor's window post (ADR 0122), if any.
    accepted_window: Mapped[str | None] = mapped_column(String(64))
    clock_start: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    statutory_due_date: Mapped[date | None] = mapped_column(Date)
    rejection_notice_no: Mapped[str | None] = mapped_column(String(80))
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    rejected_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    licence: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    completed_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    on_time: Mapped[bool | None]
    working_days_used: Mapped[int | None]
    # 事项版本 the case started on (ADR 0018); null for cases registered before versions existed.
    # Last, as the migration added it: CaseRecord keeps the table's column order.
    item_version: Mapped[int | None]
    # 六件管理 (ADR 0111): the 办件类别 (CaseKind code), the item's intake rules copied at
    # registration, and the 容缺 materials still owed with the date they are due.
    case_kind: Mapped[str | None] = mapped_column(String(1))
    intake_rules: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    pending_materials: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    pending_due_date: Mapped[date | None] = mapped_column(Date)


#: A case's county (行政区划代码): the first six characters of its 办件编号 (ADR 0004).
CASE_REGION = func.substr(Case.case_no, literal_column("1"), literal_column("6"))

# The staff list (ADR 0105): a unit's page in a county, newest first with the 办件编号
# tie-break, read in index order; and a county's page for its supervisors.
Index("ix_case_file_org_region_registered", Case.org_code, CASE_REGION, Case.registered_at, Case.case_no)
Index("ix_case_file_region_registered", CASE_REGION, Case.registered_at, Case.case_no)


class CaseStep(Base):
    """办理环节 Step record of a case (GB/T 39046 Table 7)."""

    __tablename__ = "case_step"
    # Replayed or overlapping step reports (CaseStepCompleted, then CaseDecided) must not duplicate.
    __table_args__ = (UniqueConstraint("case_no", "step_key", "ended_at"),)

    id: Mapped[int] = mapped_column(BigInteger(), primary_key=True)
    case_no: Mapped[str] = mapped_column(ForeignKey("case_file.case_no", ondelete="CASCADE"))
    step_key: Mapped[str] = mapped_column(String(64))
    step_name: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(8))
    handler_id: Mapped[str] = mapped_column(String(64))
    handler_name: Mapped[str] = mapped_column(String(100))
    opinion: Mapped[str] = mapped_column(Text)
    org_name: Mapped[str] = mapped_column(String(200))
    org_code: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(TZDateTime)
    ended_at: Mapped[datetime] = mapped_column(TZDateTime)
    status: Mapped[str] = mapped_column(String(1))


class CaseSequence(Base):
    """办件编号 daily sequence per region (行政区划 + 日期)."""

    __tablename__ = "case_sequence"

    region_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer)
