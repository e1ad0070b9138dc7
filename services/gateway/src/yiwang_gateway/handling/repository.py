"""Writes of business's handling events onto the applicant's application (Core updates by id)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import bindparam, select, update

from yiwang_common.db import utcnow
from yiwang_common.db.repository import RepositoryBase
from yiwang_gateway.application.models import Application

# Every step event asks it: built once.
_EXISTS = select(Application.id).where(Application.id == bindparam("application_id"))


class HandlingRepository(RepositoryBase[Application]):
    """The application's handling columns: ``clock`` (why it stands still) and ``withdrawn_at``."""

    model = Application

    async def exists(self, application_id: uuid.UUID) -> bool:
        return (await self.execute(_EXISTS, {"application_id": application_id})).first() is not None

    async def set_clock(
        self, application_id: uuid.UUID, clock: str | None, due_date: date | None = None
    ) -> bool:
        values: dict[str, object] = {"clock": clock, "updated_at": utcnow()}
        if due_date is not None:
            values["due_date"] = due_date
        result = await self.execute(
            update(Application)
            .where(Application.id == application_id)
            .values(**values)
            .returning(Application.id)
        )
        return result.first() is not None

    async def withdrawn(self, application_id: uuid.UUID, at: datetime) -> bool:
        result = await self.execute(
            update(Application)
            .where(Application.id == application_id)
            .values(withdrawn_at=at, clock=None, updated_at=utcnow())
            .returning(Application.id)
        )
        return result.first() is not None
