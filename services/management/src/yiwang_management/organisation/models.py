"""ORM models of the organisation tree (组织机构) and the staff (工作人员) who hold its posts.

区划 region (GB/T 2260) → 层级 level (省/市/县/乡/村) → 部门 department (统一社会信用代码) →
窗口 window / 岗位 post. A staff member belongs to one department and holds some of its posts;
the roles of those posts are the roles of their token.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_common.db import JSONType, TZDateTime, utcnow
from yiwang_management.db import Base


class Region(Base):
    """行政区划 Region of the tree (GB/T 2260 code); a province's has no parent."""

    __tablename__ = "org_region"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("org_region.code"), index=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)


class Department(Base):
    """部门 Department (实施主体) at one level (层级) of a region."""

    __tablename__ = "org_department"

    org_code: Mapped[str] = mapped_column(String(18), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(ForeignKey("org_region.code"), index=True)
    # 层级 code of ExerciseLevel: 2 省级, 3 市级, 4 县级, 5 乡级, 6 村级.
    level: Mapped[str] = mapped_column(String(1))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)


class Post(Base):
    """窗口 Window or 岗位 post of a department, and the roles holding it grants."""

    __tablename__ = "org_post"
    __table_args__ = (UniqueConstraint("org_code", "code"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    org_code: Mapped[str] = mapped_column(ForeignKey("org_department.org_code"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(8))
    roles: Mapped[list[Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)


class StaffMember(Base):
    """工作人员 Staff member: the gateway staff account (by user name) in one department."""

    __tablename__ = "staff_member"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    org_code: Mapped[str] = mapped_column(ForeignKey("org_department.org_code"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Each change of posts grows it; the gateway applies only a newer version (late events).
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)


class StaffPost(Base):
    """在岗 A post a staff member holds."""

    __tablename__ = "staff_post"

    staff_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("staff_member.id", ondelete="CASCADE"), primary_key=True
    )
    post_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("org_post.id"), primary_key=True, index=True)
