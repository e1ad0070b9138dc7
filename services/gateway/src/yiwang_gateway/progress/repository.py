"""Queries on the applicant's projection of cases."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.contracts.lifecycle import before, level_with
from yiwang_common.db import utcnow
from yiwang_gateway.application.models import Application

_TABLE = cast(Table, Application.__table__)
_ADVANCE: dict[tuple[str, tuple[str, ...]], Any] = {}


def _advance_statement(status: str, keys: tuple[str, ...]) -> Any:
    """The ``UPDATE`` that moves a row to ``status`` setting ``keys``, built once per shape.

    Its ``WHERE`` is :func:`yiwang_common.contracts.lifecycle.supersedes` in SQL.

    Building and cache-keying a construct per event costs more than the round trip it makes.
    """
    statement = _ADVANCE.get((status, keys))
    if statement is None:
        t = _TABLE
        statement = _ADVANCE[(status, keys)] = (
            update(t)
            .where(
                t.c.id == bindparam("where_id"),
                or_(
                    t.c.status.in_(sorted(before(status))),
                    and_(
                        t.c.status.in_(sorted(level_with(status))),
                        or_(t.c.status_at.is_(None), t.c.status_at <= bindparam("new_status_at")),
                    ),
                ),
            )
            .values(
                status=status,
                status_at=bindparam("new_status_at", type_=t.c.status_at.type),
                case_no=func.coalesce(t.c.case_no, bindparam("new_case_no", type_=t.c.case_no.type)),
                updated_at=bindparam("new_updated_at", type_=t.c.updated_at.type),
                **{k: bindparam(f"new_{k}", type_=t.c[k].type) for k in keys},
            )
            .returning(t.c.id)
        )
    return statement


class ProgressRepository:
    """办件进度 queries."""

    async def get_for_update(self, session: AsyncSession, application_id: uuid.UUID) -> Application | None:
        # Row lock on PostgreSQL: a handler and a supplement on the same case must not interleave.
        # populate_existing: an earlier handler of the batch may have updated the row with Core.
        stmt = (
            select(Application)
            .where(Application.id == application_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await session.execute(stmt)).scalar_one_or_none()

    async def advance(
        self,
        session: AsyncSession,
        application_id: uuid.UUID,
        *,
        case_no: str,
        status: str,
        at: datetime,
        values: dict[str, Any],
    ) -> bool:
        """Move the status forward in one ``UPDATE``, with ``values``; False when the row is not behind.

        ``at`` is the time of the event that reports ``status``.

        Sets the 办件编号 when missing, like a read-modify-write would, and locks the row.
        """
        params = {f"new_{k}": v for k, v in values.items()}
        params |= {
            "where_id": application_id,
            "new_case_no": case_no,
            "new_status_at": at,
            "new_updated_at": utcnow(),
        }
        stmt = _advance_statement(status, tuple(values))
        return (await session.execute(stmt, params)).first() is not None

    async def get_owned_by_case_no(
        self, session: AsyncSession, *, applicant_id: str, case_no: str, for_update: bool = False
    ) -> Application | None:
        stmt = select(Application).where(
            Application.case_no == case_no, Application.applicant_id == applicant_id
        )
        if for_update:
            stmt = stmt.with_for_update()
        return (await session.execute(stmt)).scalar_one_or_none()

    async def add(self, session: AsyncSession, app: Application) -> Application:
        session.add(app)
        await session.flush()
        return app


progress_repository = ProgressRepository()
