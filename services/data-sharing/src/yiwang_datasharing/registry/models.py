"""ORM of the base registries (基础库) and of their load jobs and lookups."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_common.db import JSONType, TZDateTime, utcnow
from yiwang_datasharing.db import Base


class PopulationRecord(Base):
    """人口库 Population registry: one resident per 公民身份号码 (GB 11643)."""

    __tablename__ = "registry_person"

    id_number: Mapped[str] = mapped_column(String(18), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    gender: Mapped[str | None] = mapped_column(String(2), comment="性别: 男 / 女")
    birth_date: Mapped[date] = mapped_column(Date(), comment="出生日期, read from the id number")
    address: Mapped[str | None] = mapped_column(String(300), comment="住址")
    load_job_id: Mapped[uuid.UUID] = mapped_column(Uuid(), comment="The load that last wrote the row")
    updated_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class LegalPersonRecord(Base):
    """法人库 Legal-person registry: one unit per 统一社会信用代码 (GB 32100)."""

    __tablename__ = "registry_legal_person"

    credit_code: Mapped[str] = mapped_column(String(18), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), comment="单位名称")
    legal_rep_name: Mapped[str] = mapped_column(String(100), comment="法定代表人")
    legal_rep_id_number: Mapped[str] = mapped_column(String(18), comment="法定代表人公民身份号码")
    address: Mapped[str | None] = mapped_column(String(300), comment="住所")
    established_on: Mapped[date | None] = mapped_column(Date(), comment="成立日期")
    status: Mapped[str] = mapped_column(String(20), default="存续", comment="登记状态")
    load_job_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    updated_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class RegistryLoadJob(Base):
    """导入任务 One load of a registry file: its progress and its row errors."""

    __tablename__ = "registry_load_job"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    registry_kind: Mapped[str] = mapped_column(String(20), comment="population 人口库 / legal_person 法人库")
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), comment="running / completed / failed")
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    # The first errors (row, column, reason); error_count has them all.
    errors: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    detail: Mapped[str | None] = mapped_column(String(500), comment="Why a failed load failed")
    started_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(TZDateTime())


class RegistryLookup(Base):
    """查询记录 One lookup in a base registry: append-only, for audit (who, what, when, why).

    The key is kept masked (530428********1231): the record says which person was looked up
    without becoming a second copy of the registry.
    """

    __tablename__ = "registry_lookup"

    id: Mapped[int] = mapped_column(BigInteger(), primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    registry_kind: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(20), comment="verify 核验 / prefill 预填")
    caller_sub: Mapped[str] = mapped_column(String(64))
    caller_kind: Mapped[str] = mapped_column(String(20))
    on_behalf_of: Mapped[str | None] = mapped_column(
        String(64), comment="The portal user the service asked for"
    )
    reason: Mapped[str | None] = mapped_column(String(200), comment="查询事由")
    key_masked: Mapped[str] = mapped_column(String(18))
    matched: Mapped[bool] = mapped_column(Boolean())
