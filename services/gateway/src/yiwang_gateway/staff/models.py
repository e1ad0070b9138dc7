"""岗位分配 The assignment management last sent for one staff account."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_common.db import JSONType, TZDateTime
from yiwang_gateway.db import Base


class StaffAssignment(Base):
    """岗位分配 Staff assignment: roles, unit (org_code) and region of a staff account.

    Kept by user name, so an assignment that arrives before its account exists is applied when
    the account is created, and by version, so a late, older event changes nothing. The account
    row carries roles and org_code for the token; ``region_code`` is read from here.
    """

    __tablename__ = "staff_assignment"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    name: Mapped[str] = mapped_column(String(100))
    org_code: Mapped[str] = mapped_column(String(18))
    org_name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(6))
    roles: Mapped[list[Any]] = mapped_column(JSONType)
    #: 窗口 The code of the window post held (the first by code when several), else None.
    window_code: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(TZDateTime())
