"""Queries on the applicant's projection of cases.

The projection of management's events is the hot path of the consumer: it reads and writes the
``application`` row with prebuilt Core statements only and never loads an ``Application``, so no
tracked copy can go stale beside a Core ``UPDATE`` of the same row. The applicant's own actions
(viewing a case, supplementing materials) read a tracked ``Application`` and let the session write it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, and_, bindparam, func, or_, select, update

from yiwang_common.contracts.lifecycle import before, level_with
from yiwang_common.db import utcnow
from yiwang_common.db.repository import RepositoryBase
from yiwang_gateway.application.models import Application

_TABLE = cast(Table, Application.__table__)
_ADVANCE: dict[tuple[str, tuple[str, ...]], Any] = {}
# What ordering an event needs of the row, locked: a handler and a supplement must not interleave.
_LOCK_STATUS = (
    select(_TABLE.c.status, _TABLE.c.status_at).where(_TABLE.c.id == bindparam("where_id")).with_for_update()
)
# An event that does not move the status still names the case and marks the row as seen.
_TOUCH = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("where_id"))
    .values(
        case_no=func.coalesce(_TABLE.c.case_no, bindparam("new_case_no", type_=_TABLE.c.case_no.type)),
        updated_at=bindparam("new_updated_at", type_=_TABLE.c.updated_at.type),
    )
)
_INSERT = _TABLE.insert()
_LOCK_PARTS = select(_TABLE.c.joint_parts).where(_TABLE.c.id == bindparam("where_id")).with_for_update()
_SET_PARTS = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("where_id"))
    .values(
        joint_parts=bindparam("new_joint_parts", type_=_TABLE.c.joint_parts.type),
        updated_at=bindparam("new_updated_at", type_=_TABLE.c.updated_at.type),
    )
)
_ID_OF_CASE = select(_TABLE.c.id).where(_TABLE.c.case_no == bindparam("case_no"))
_TRACKS = select(
    select(_TABLE.c.id)
    .where(_TABLE.c.id == bindparam("where_id"), _TABLE.c.case_no == bindparam("case_no"))
    .exists()
)


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


class ProgressRepository(RepositoryBase[Application]):
    """办件进度 queries."""

    model = Application

    async def advance(
        self,
        application_id: uuid.UUID,
        *,
        case_no: str,
        status: str,
        at: datetime,
        values: Mapping[str, Any],
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
        return (await self.execute(stmt, params)).first() is not None

    async def lock_status(self, application_id: uuid.UUID) -> Row[Any] | None:
        """Lock the row and return its ``status`` and ``status_at``; None when there is no such application."""
        return await self.first_row(_LOCK_STATUS, {"where_id": application_id})

    async def tracks(self, application_id: uuid.UUID, *, case_no: str) -> bool:
        """Is this the portal's application of the case (a timeline line may be added to it)?"""
        return (await self.session.scalar(_TRACKS, {"where_id": application_id, "case_no": case_no})) is True

    async def touch(self, application_id: uuid.UUID, *, case_no: str) -> None:
        """Set the 办件编号 when missing and ``updated_at``, leaving the status as it is."""
        await self.execute(
            _TOUCH, {"where_id": application_id, "new_case_no": case_no, "new_updated_at": utcnow()}
        )

    async def insert(self, values: Mapping[str, Any]) -> None:
        """Write a new application row (a case the portal never saw) with one prebuilt ``INSERT``."""
        await self.execute(_INSERT, values)

    async def lock_joint_parts(self, application_id: uuid.UUID) -> tuple[bool, list[Any] | None]:
        """Lock the row and return (whether it exists, its 联办分件 — None for an ordinary case)."""
        row = await self.first_row(_LOCK_PARTS, {"where_id": application_id})
        if row is None:
            return False, None
        return True, cast(list[Any] | None, row.joint_parts)

    async def set_joint_parts(self, application_id: uuid.UUID, parts: list[Any]) -> None:
        """Write a joint case's parts (the row is locked by :meth:`lock_joint_parts`)."""
        await self.execute(
            _SET_PARTS, {"where_id": application_id, "new_joint_parts": parts, "new_updated_at": utcnow()}
        )

    async def id_of_case(self, case_no: str) -> uuid.UUID | None:
        """The application id of a 办件编号, if the portal has it."""
        row = await self.first_row(_ID_OF_CASE, {"case_no": case_no})
        return cast(uuid.UUID, row.id) if row is not None else None

    async def get_owned_by_case_no(
        self, *, applicant_id: str, case_no: str, for_update: bool = False
    ) -> Application | None:
        """The applicant's tracked application of a case; ``for_update`` locks the row."""
        stmt = self.get_base_statement().where(
            Application.case_no == case_no, Application.applicant_id == applicant_id
        )
        if for_update:
            stmt = stmt.with_for_update()
        return await self.get_one_or_none(stmt)


class PublicProgressRepository(RepositoryBase[Application]):
    """The public 办件进度 lookup by 办件编号 (what anyone with the number may see)."""

    model = Application

    async def by_case_no(self, case_no: str) -> Application | None:
        return await self.get_one_or_none(self.get_base_statement().where(Application.case_no == case_no))
