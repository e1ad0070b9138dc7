"""Writes a unit of work sends at commit, one batched statement per kind.

A consumer batch projects dozens of events; when each event's row is written with its own
statement, the database round trips dominate the cost. Rows that nothing in the same unit of
work reads back (timeline entries, exchange-log rows, order-tolerant upserts) can instead be
handed to :func:`defer`: at commit, every deferred row of the same statement goes out in one
``executemany`` (asyncpg pipelines it in a single round trip), in the order they were deferred.

The flush runs inside the commit, in the same transaction, so a deferred write commits if and
only if the unit of work does; a rollback forgets it. Queries in the unit of work do not see
deferred rows: defer only writes that no later step of the same unit of work reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

_KEY = "deferred_writes"

#: A statement: fixed driver SQL (``$n`` parameters on asyncpg) or a Core construct.
Statement = str | Executable


def defer(session: AsyncSession, statement: Statement, params: Sequence[Any] | Mapping[str, Any]) -> None:
    """Queue one row of ``statement`` for the commit of ``session``'s unit of work.

    Args:
        session: the current unit of work.
        statement: driver SQL with positional parameters (given as a tuple), or a Core
            statement without values (given as a mapping); reuse the same object per kind, since
            rows are grouped by it.
        params: the row's parameters.
    """
    pending: dict[Statement, list[Any]] = session.info.setdefault(_KEY, {})
    pending.setdefault(statement, []).append(params)


def pending_count(session: AsyncSession) -> int:
    """Return how many rows wait for the commit (for tests and diagnostics).

    Args:
        session: the unit of work.

    Returns:
        The number of deferred rows.
    """
    pending: dict[Statement, list[Any]] = session.info.get(_KEY, {})
    return sum(len(rows) for rows in pending.values())


@sa_event.listens_for(Session, "before_commit")
def _flush_deferred(session: Session) -> None:
    # Runs in SQLAlchemy's greenlet for async sessions, so the sync API below awaits the driver.
    pending: dict[Statement, list[Any]] | None = session.info.pop(_KEY, None)
    if not pending:
        return
    # ORM objects first: a deferred row may refer to one added in this unit of work.
    session.flush()
    connection = session.connection()
    for statement, rows in pending.items():
        if isinstance(statement, str):
            connection.exec_driver_sql(statement, rows if len(rows) > 1 else rows[0])
        else:
            connection.execute(statement, rows)


@sa_event.listens_for(Session, "after_rollback")
def _forget_deferred(session: Session) -> None:
    session.info.pop(_KEY, None)
