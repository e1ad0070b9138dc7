"""ORM of the material domain: 材料 blobs and who handed each one in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_common.db import TZDateTime, utcnow
from yiwang_datasharing.db import Base


class Material(Base):
    """材料 Material: one stored content, addressed by its SHA-256."""

    __tablename__ = "material"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class MaterialOwner(Base):
    """材料归属 Ownership: an account that uploaded the content, with the file name it gave."""

    __tablename__ = "material_owner"

    sha256: Mapped[str] = mapped_column(String(64), ForeignKey("material.sha256"), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    filename: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
