"""账户 Account ORM model."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, String, UniqueConstraint, Uuid
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
