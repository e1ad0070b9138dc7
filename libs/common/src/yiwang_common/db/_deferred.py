"""Rows a transaction sends at its commit, one batched statement per kind (private machinery).

A consumer batch projects dozens of events; when each event's row is written with its own
statement, the database round trips dominate the cost. Rows that nothing in the same unit of
work reads back (outbox rows, timeline entries, order-tolerant upserts) are queued instead: at
commit, every queued row of the same statement goes out in one ``executemany`` (asyncpg
pipelines it in a single round trip), in the order they were queued, inside the transaction.

Nobody outside ``yiwang_common`` touches the queue. The two ways in are
:func:`yiwang_common.events.enqueue` (outbox rows) and :class:`WriteAtCommit` (projection rows).

The queue belongs to one database transaction and follows its savepoints: a row remembers the
innermost savepoint open when it was queued; when a savepoint rolls back, the rows queued
inside it (or inside savepoints nested in it) are dropped and every other row stays; a released
savepoint's rows stay with its parent. The rows go out only when the outermost transaction
commits; when it ends any other way they are forgotten. Queries in the unit of work do not see
queued rows: queue only writes that no later step of the same unit of work reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql import Executable

_KEY = "yiwang_deferred_rows"

#: A statement: fixed driver SQL (``$n`` parameters on asyncpg) or a Core construct.
Statement = str | Executable
Params = Sequence[Any] | Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class _Row:
    savepoint: SessionTransaction | None  # innermost open savepoint when queued; None: none was
    statement: Statement
    params: Params


def _sync(session: AsyncSession | Session) -> Session:
    return session.sync_session if isinstance(session, AsyncSession) else session


def queue(session: AsyncSession | Session, statement: Statement, params: Params) -> None:
    """Queue one row of ``statement`` for the commit of ``session``'s current transaction.

    Args:
        session: the current unit of work.
        statement: driver SQL with positional parameters (given as a tuple), or a Core
            statement without values (given as a mapping); rows are grouped by it.
        params: the row's parameters.
    """
    sync = _sync(session)
    rows: list[_Row] = sync.info.setdefault(_KEY, [])
    rows.append(_Row(sync.get_nested_transaction(), statement, params))


def pending_count(session: AsyncSession | Session) -> int:
    """Return how many rows wait for the commit (for tests and diagnostics).

    Args:
        session: the unit of work.

    Returns:
        The number of queued rows.
    """
    return len(_sync(session).info.get(_KEY, ()))


class WriteAtCommit:
    """A write-only statement of a projection whose rows go out with the commit (提交时批量写).

    For rows nothing in the same unit of work reads back (a replay-tolerant ``INSERT … ON
    CONFLICT``, an order-tolerant upsert): every row added during a transaction is sent at its
    commit in one ``executemany`` with the other rows of the same statement. Savepoint-safe as
    described in this module. Build one per statement at import time and reuse it.
    """

    __slots__ = ("statement",)

    def __init__(self, statement: Statement) -> None:
        """Wrap the statement.

        Args:
            statement: driver SQL with positional parameters or a Core statement without values.
        """
        self.statement = statement

    def add(self, session: AsyncSession, params: Params) -> None:
        """Queue one row for the commit of the current transaction.

        Args:
            session: the current unit of work.
            params: the row's parameters (a tuple for driver SQL, a mapping for Core).
        """
        queue(session, self.statement, params)


def _inside(savepoint: SessionTransaction | None, boundary: SessionTransaction) -> bool:
    t = savepoint
    while t is not None:
        if t is boundary:
            return True
        t = t.parent
    return False


@sa_event.listens_for(Session, "before_commit")
def _flush_queued(session: Session) -> None:
    # before_commit also fires when a savepoint is released: its rows wait for the outermost commit.
    if session.get_nested_transaction() is not None:
        return
    rows: list[_Row] | None = session.info.pop(_KEY, None)
    if not rows:
        return
    by_statement: dict[Statement, list[Params]] = {}
    for row in rows:
        by_statement.setdefault(row.statement, []).append(row.params)
    # ORM objects first: a queued row may refer to one added in this unit of work. Runs in
    # SQLAlchemy's greenlet for async sessions, so the sync API below awaits the driver.
    session.flush()
    connection = session.connection()
    for statement, params in by_statement.items():
        if isinstance(statement, str):
            connection.exec_driver_sql(statement, params if len(params) > 1 else params[0])
        else:
            connection.execute(statement, params)  # type: ignore[arg-type]


@sa_event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    rows: list[_Row] | None = session.info.get(_KEY)
    if not rows:
        return
    # What the database rolled back: the first savepoint or the outermost transaction upwards
    # (a failed flush rolls back from an inner marker that is neither).
    boundary = previous_transaction
    while not boundary.nested and boundary.parent is not None:
        boundary = boundary.parent
    if not boundary.nested:
        session.info.pop(_KEY, None)
        return
    session.info[_KEY] = [r for r in rows if not _inside(r.savepoint, boundary)]


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_at_end(session: Session, transaction: SessionTransaction) -> None:
    # Per transaction: whatever the outermost transaction did not send is not the next one's.
    if transaction.parent is None:
        session.info.pop(_KEY, None)
