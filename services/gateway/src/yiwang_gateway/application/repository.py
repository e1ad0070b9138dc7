"""Queries on applications and their timelines."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.db import WriteAtCommit
from yiwang_gateway.application.models import Application, TimelineEntry
from yiwang_gateway.db import dialect_insert


class ApplicationRepository:
    """申请 queries."""

    async def insert_unless_key_taken(self, session: AsyncSession, values: dict[str, Any]) -> bool:
        """Insert an application; False when the same account already used its idempotency key.

        ``ON CONFLICT DO NOTHING`` makes two concurrent retries of one request safe: the second
        waits for the first to commit and then inserts nothing.
        """
        stmt = (
            dialect_insert(session, Application.__table__)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["applicant_id", "idempotency_key"])
            .returning(Application.__table__.c.id)
        )
        return (await session.execute(stmt)).first() is not None

    async def get_by_key(self, session: AsyncSession, *, applicant_id: str, key: str) -> Application | None:
        stmt = select(Application).where(
            Application.applicant_id == applicant_id, Application.idempotency_key == key
        )
        return (await session.execute(stmt)).scalar_one_or_none()

    async def get_owned(
        self, session: AsyncSession, *, applicant_id: str, application_id: uuid.UUID
    ) -> Application | None:
        stmt = select(Application).where(
            Application.id == application_id, Application.applicant_id == applicant_id
        )
        return (await session.execute(stmt)).scalar_one_or_none()

    async def list_owned(
        self, session: AsyncSession, *, applicant_id: str, status: str | None, page: int, limit: int
    ) -> tuple[Sequence[Any], int]:
        """One page of summary columns, and the total: one statement unless the page is past the end."""
        where = [Application.applicant_id == applicant_id]
        if status:
            where.append(Application.status == status)
        stmt = (
            select(*_SUMMARY_COLUMNS, func.count().over().label("total"))
            .where(*where)
            .order_by(Application.submitted_at.desc(), Application.id)
            .offset((page - 1) * limit)
            .limit(limit)
        )
        rows = (await session.execute(stmt)).all()
        if rows:
            return rows, int(rows[0].total)
        if page == 1:
            return rows, 0
        total = (
            await session.execute(select(func.count()).select_from(Application).where(*where))
        ).scalar_one()
        return rows, total


#: What the applicant's list shows: no form, materials or result to load and decode.
_SUMMARY_COLUMNS = (
    Application.id,
    Application.item_code,
    Application.item_name,
    Application.status,
    Application.case_no,
    Application.outcome,
    Application.submitted_at,
)


# A replayed event's entry is skipped.
_TIMELINE_WRITE = WriteAtCommit(
    pg_insert(cast(Table, TimelineEntry.__table__)).on_conflict_do_nothing(index_elements=["source_event_id"])
)


class TimelineRepository:
    """办理时间线 queries."""

    async def add(
        self,
        session: AsyncSession,
        *,
        application_id: uuid.UUID,
        at: datetime,
        title: str,
        detail: str | None = None,
        data: dict[str, Any] | None = None,
        source_event_id: uuid.UUID | None = None,
    ) -> None:
        # Nothing reads the timeline in the unit of work that writes it: the entries go out at
        # commit, one batched statement for a whole consumer batch.
        _TIMELINE_WRITE.add(
            session,
            {
                "application_id": application_id,
                "at": at,
                "title": title,
                "detail": detail,
                "data": data,
                "source_event_id": source_event_id,
            },
        )

    async def for_application(
        self, session: AsyncSession, application_id: uuid.UUID
    ) -> Sequence[TimelineEntry]:
        stmt = (
            select(TimelineEntry)
            .where(TimelineEntry.application_id == application_id)
            .order_by(TimelineEntry.seq)
        )
        return (await session.execute(stmt)).scalars().all()


application_repository = ApplicationRepository()
timeline_repository = TimelineRepository()
