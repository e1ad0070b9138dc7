"""账户 Account ORM model."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_common.db import JSONType, TZDateTime, utcnow
from yiwang_gateway.db import Base


class Account(Base):
    """账户 Account: a natural person, a legal person or a staff member.

    Real-name identity (实名认证) is reduced to the fields a later identity provider will fill:
    证件类型 ``id_type`` and 证件号码 ``id_number``.
    """

    __tablename__ = "account"
    __table_args__ = (UniqueConstraint("id_type", "id_number"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    id_type: Mapped[str | None] = mapped_column(String(10))
    id_number: Mapped[str | None] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(32))
    org_code: Mapped[str | None] = mapped_column(String(18))
    roles: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    # 实名等级: L1 self-declared, L2 verified against the base registry, L3 in person / trusted channel.
    realname_level: Mapped[str | None] = mapped_column(String(2))
    # 法定代表人 of a legal person, as the 法人库 verified it at sign-up.
    legal_rep_name: Mapped[str | None] = mapped_column(String(100))
    legal_rep_id_number: Mapped[str | None] = mapped_column(String(18))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class LoginThrottle(Base):
    """登录失败计数 Failed logins of one account name or one client address.

    Kept in the database, not in a process, so that every replica and a restart see the same
    counts. The key never holds what was typed: account names are hashed (people type passwords
    into the user name field).
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    blocked_until: Mapped[datetime | None] = mapped_column(TZDateTime())
    last_failure_at: Mapped[datetime] = mapped_column(TZDateTime())


class AgentAuthorisation(Base):
    """经办人授权 A legal person's authorisation of a natural person to act for it.

    The 法定代表人 grants and revokes it; it holds the scope of authority (授权范围: actions, and
    optionally only some items) and its validity dates. A revoked authorisation stays, for the
    record of who could act for whom when.
    """

    __tablename__ = "agent_authorisation"
    __table_args__ = (
        Index("ix_agent_authorisation_agent_account_id", "agent_account_id"),
        Index("ix_agent_authorisation_legal_person_id", "legal_person_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    legal_person_id: Mapped[uuid.UUID] = mapped_column(Uuid(), comment="The legal person's account")
    credit_code: Mapped[str] = mapped_column(String(18), comment="统一社会信用代码")
    agent_account_id: Mapped[uuid.UUID] = mapped_column(Uuid(), comment="经办人's natural-person account")
    agent_name: Mapped[str] = mapped_column(String(100))
    agent_id_number: Mapped[str] = mapped_column(String(18))
    actions: Mapped[list[Any]] = mapped_column(JSONType, comment="apply / supplement / withdraw / view")
    item_codes: Mapped[list[Any]] = mapped_column(JSONType, comment="实施编码; empty: every item")
    valid_from: Mapped[date] = mapped_column(Date())
    valid_until: Mapped[date] = mapped_column(Date())
    granted_by: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(64))


class RealnameVerification(Base):
    """实名核验记录 A raise of an account's real-name level by a staff member, with the reason.

    L3 is verified in person at a window (现场核验) or through a trusted channel (可信渠道); the
    受理人 who did it, their unit, the method and the reason stay here, append-only.
    """

    __tablename__ = "realname_verification"
    __table_args__ = (Index("ix_realname_verification_account_id", "account_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    level_before: Mapped[str | None] = mapped_column(String(2))
    level_after: Mapped[str] = mapped_column(String(2))
    # in_person (现场核验) or trusted_channel (可信渠道).
    method: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500))
    staff_id: Mapped[str] = mapped_column(String(64))
    staff_name: Mapped[str] = mapped_column(String(100))
    staff_org_code: Mapped[str | None] = mapped_column(String(18))
    verified_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
