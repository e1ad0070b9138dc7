"""Queries on applications and their timelines.

Submitting is the hot path: the application is written by one prebuilt ``INSERT … ON CONFLICT``
and never added to the session (the ``Application`` the service builds from the same values is a
transient carrier for the event and the receipt). Reads for display use the ORM and write nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert

from yiwang_common.db import WriteAtCommit
from yiwang_common.db.repository import RepositoryBase
from yiwang_gateway.application.models import Application, TimelineEntry

_APPLICATION = cast(Table, Application.__table__)

# Prebuilt: values travel as parameters, so a submission builds no SQL expression.
_INSERT_UNLESS_KEY_TAKEN = (
    insert(_APPLICATION)
    .on_conflict_do_nothing(index_elements=["applicant_id", "idempotency_key"])
    .returning(_APPLICATION.c.id)
)

#: What the applicant's list shows: no form, materials or result to load and decode.
_SUMMARY_COLUMNS: tuple[Any, ...] = (
    Application.id,
    Application.item_code,
    Application.item_name,
    Application.status,
    Application.case_no,
    Application.outcome,
    Application.submitted_at,
    Application.missing_materials,
)


class ApplicationRepository(RepositoryBase[Application]):
    """申请 queries."""

    model = Application

    async def insert_unless_key_taken(self, values: Mapping[str, Any]) -> bool:
        """Insert an application; False when the same account already used its idempotency key.

        ``ON CONFLICT DO NOTHING`` makes two concurrent retries of one request safe: the second
        waits for the first to commit and then inserts nothing.
        """
        return (await self.execute(_INSERT_UNLESS_KEY_TAKEN, values)).first() is not None

    async def get_by_key(self, *, applicant_id: str, key: str) -> Application | None:
        return await self.get_one_or_none(
            self.get_base_statement().where(
                Application.applicant_id == applicant_id, Application.idempotency_key == key
            )
        )

    async def get_owned(self, *, applicant_id: str, application_id: uuid.UUID) -> Application | None:
        return await self.get_one_or_none(
            self.get_base_statement().where(
                Application.id == application_id, Application.applicant_id == applicant_id
            )
        )

    async def list_owned(
        self, *, applicant_id: str, status: str | None, page: int, limit: int
    ) -> tuple[Sequence[Any], int]:
        """One page of summary columns, and the total: one statement unless the page is past the end."""
        stmt = (
            select(*_SUMMARY_COLUMNS)
            .where(Application.applicant_id == applicant_id)
            .order_by(Application.submitted_at.desc(), Application.id)
        )
        if status:
            stmt = stmt.where(Application.status == status)
        return await self.paginate(stmt, page=page, limit=limit)


# A replayed event's entry is skipped.
_TIMELINE_WRITE = WriteAtCommit(
    insert(cast(Table, TimelineEntry.__table__)).on_conflict_do_nothing(index_elements=["source_event_id"])
)


class TimelineRepository(RepositoryBase[TimelineEntry]):
    """办理时间线 queries."""

    model = TimelineEntry

    async def add(
        self,
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
            self.session,
            {
                "application_id": application_id,
                "at": at,
                "title": title,
                "detail": detail,
                "data": data,
                "source_event_id": source_event_id,
            },
        )

    async def for_application(self, application_id: uuid.UUID) -> Sequence[TimelineEntry]:
        return await self.get_all(
            self.get_base_statement()
            .where(TimelineEntry.application_id == application_id)
            .order_by(TimelineEntry.seq)
        )
