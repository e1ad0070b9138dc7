"""ORM models of joint cases' parts (联办分件), registered external systems and who handles which item."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_common.db import JSONType, TZDateTime
from yiwang_management.db import Base

BUILTIN = "builtin"
EXTERNAL = "external"


class ExternalSystem(Base):
    """部门自建审批系统: a department's own system, registered with its own client credentials."""

    __tablename__ = "plugin_system"

    system_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    department_code: Mapped[str] = mapped_column(String(32), index=True)
    department_name: Mapped[str] = mapped_column(String(200))
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    # argon2id of the client secret; the secret itself is shown once, at registration.
    secret_hash: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(TZDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    # 最近拉取: the system's last pull of its dispatches; the console tells a system that is down by it.
    last_pull_at: Mapped[datetime | None] = mapped_column(TZDateTime)


class PluginToken(Base):
    """A short-lived bearer token of an external system, kept only as its SHA-256."""

    __tablename__ = "plugin_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    system_id: Mapped[str] = mapped_column(
        ForeignKey("plugin_system.system_id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[datetime] = mapped_column(TZDateTime)


class ItemHandler(Base):
    """办理系统配置: which system handles an item — the built-in workflow unless configured otherwise."""

    __tablename__ = "item_handler"

    item_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    handler: Mapped[str] = mapped_column(String(16))
    system_id: Mapped[str | None] = mapped_column(ForeignKey("plugin_system.system_id"))
    updated_at: Mapped[datetime] = mapped_column(TZDateTime)
    updated_by: Mapped[str] = mapped_column(String(64))


class JointPart(Base):
    """联办分件: one department's part of a joint case, handled in that department's system."""

    __tablename__ = "joint_part"
    __table_args__ = (
        # The pull endpoint: a system's dispatches not acknowledged yet, oldest first.
        Index(
            "ix_joint_part_pending", "system_id", "dispatched_at", postgresql_where=text("acked_at IS NULL")
        ),
    )

    part_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    joint_no: Mapped[str] = mapped_column(ForeignKey("case_file.case_no", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    item_code: Mapped[str] = mapped_column(String(64))
    item_name: Mapped[str] = mapped_column(String(200))
    org_code: Mapped[str] = mapped_column(String(32))
    org_name: Mapped[str] = mapped_column(String(200))
    handler: Mapped[str] = mapped_column(String(16))
    system_id: Mapped[str | None] = mapped_column(ForeignKey("plugin_system.system_id"))
    status: Mapped[str] = mapped_column(String(24))
    limit_days: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    dispatched_at: Mapped[datetime] = mapped_column(TZDateTime)
    acked_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    deliveries: Mapped[int] = mapped_column(Integer)
    # The JointPartDispatched payload, handed out as it was published.
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    steps: Mapped[int] = mapped_column(Integer)
    supplement: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    outcome: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    licence: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    decided_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    #: business's pauses of a built-in part's clock, ``[{kind, paused_at, resumed_at}]`` (ISO times; an
    #: end or a start may be missing while its event has not arrived), ADR 0127.
    pauses: Mapped[list[Any]] = mapped_column(JSONType, server_default=text("'[]'::jsonb"))
    #: Working days the part's clock stood still in finished pauses (its due date moved by them).
    paused_days: Mapped[int] = mapped_column(Integer, server_default=text("0"))
