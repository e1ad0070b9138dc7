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

from sqlalchemy import Integer, Table, bindparam, func, select
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


def _owned(by_status: bool) -> Any:
    statement = select(*_SUMMARY_COLUMNS).where(Application.applicant_id == bindparam("applicant_id"))
    if by_status:
        statement = statement.where(Application.status == bindparam("status"))
    return statement


# The applicant's list (polled while they wait), with and without a status: its page with the
# total riding on every row (as ``paginate``), and the count for a page past the end; built once.
_OWNED_PAGE = {
    by_status: _owned(by_status)
    .add_columns(func.count().over().label("total"))
    .order_by(Application.submitted_at.desc(), Application.id)
    .offset(bindparam("offset", type_=Integer()))
    .limit(bindparam("limit", type_=Integer()))
    for by_status in (False, True)
}
_OWNED_COUNT = {
    by_status: select(func.count()).select_from(_owned(by_status).subquery()) for by_status in (False, True)
}


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
        by_status = bool(status)
        params = {
            "applicant_id": applicant_id,
            "status": status,
            "offset": (page - 1) * limit,
            "limit": limit,
        }
        rows = await self.rows(_OWNED_PAGE[by_status], params)
        if rows:
            return rows, int(rows[0].total)
        if page == 1:
            return rows, 0
        return rows, int((await self.execute(_OWNED_COUNT[by_status], params)).scalar_one())


_TIMELINE = cast(Table, TimelineEntry.__table__)
# A replayed event's entry is skipped.
_TIMELINE_WRITE = WriteAtCommit(insert(_TIMELINE).on_conflict_do_nothing(index_elements=["source_event_id"]))
_LINE_COLUMNS = ("application_id", "at", "title", "detail", "data", "source_event_id")
# The same, only where the portal holds the application: business's events about a case
# registered elsewhere add nothing, checked in the commit's batched statement rather than by a
# query per event (nothing in a business batch inserts applications).
_TIMELINE_WRITE_IF_HELD = WriteAtCommit(
    insert(_TIMELINE)
    .from_select(
        list(_LINE_COLUMNS),
        select(*(bindparam(n, type_=_TIMELINE.c[n].type) for n in _LINE_COLUMNS)).where(
            select(_APPLICATION.c.id).where(_APPLICATION.c.id == bindparam("application_id")).exists()
        ),
    )
    .on_conflict_do_nothing(index_elements=["source_event_id"])
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

    async def add_if_held(
        self,
        *,
        application_id: uuid.UUID,
        at: datetime,
        title: str,
        detail: str | None = None,
        data: dict[str, Any] | None = None,
        source_event_id: uuid.UUID | None = None,
    ) -> None:
        """:meth:`add`, written only if the portal holds the application when the unit commits.

        One unit of work writes its lines with one of the two methods only, so that its lines
        go out in the order they were added (each method's rows are one batched statement).
        """
        _TIMELINE_WRITE_IF_HELD.add(
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
