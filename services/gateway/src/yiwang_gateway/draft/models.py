"""申请草稿 Application draft ORM model."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_common.db import JSONType, TZDateTime, utcnow
from yiwang_gateway.db import Base


class ApplicationDraft(Base):
    """申请草稿: a form and material choices saved before submission; becomes an application once."""

    __tablename__ = "application_draft"
    __table_args__ = (Index("ix_application_draft_applicant_id_updated_at", "applicant_id", "updated_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    applicant_id: Mapped[str] = mapped_column(String(64))
    item_code: Mapped[str] = mapped_column(String(64))
    item_name: Mapped[str] = mapped_column(String(200))
    form: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # MaterialSelection dicts (material_code, sha256): uploads of the applicant, checked when saved.
    materials: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    # Set once, by the submission that turned the draft into an application; a draft is then read-only.
    application_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), unique=True)
