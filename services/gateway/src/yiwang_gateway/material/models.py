"""已上传材料 Uploaded material ORM model."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_common.db import TZDateTime, utcnow
from yiwang_gateway.db import Base


class UploadedMaterial(Base):
    """已上传材料: content an account stored in data-sharing, so references can be checked locally."""

    __tablename__ = "uploaded_material"

    owner_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str | None] = mapped_column(String(255))
    uploaded_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
