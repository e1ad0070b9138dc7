"""One unit of work per HTTP request or per bus message: the only place that commits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request


@asynccontextmanager
async def session_scope(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """Open a session inside one transaction; commit on success, roll back on any error.

    Args:
        sessionmaker: the service's sessionmaker.

    Yields:
        The session. Services and repositories flush but never commit.
    """
    session = sessionmaker()
    try:
        async with session.begin():
            yield session
    finally:
        # The commit or rollback has returned the connection to the pool; what closing still does
        # is detach the objects this unit of work read. A unit that tracked none (the hot paths'
        # prebuilt Core statements) skips it, and with it a task and a greenlet per unit of work.
        sync = session.sync_session
        if sync.in_transaction() or sync.identity_map or sync.new or sync.deleted:
            await session.__aexit__(None, None, None)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """FastAPI dependency: the request's unit of work.

    Use it with ``Depends(get_session, scope="function")`` so the commit happens before the
    response is sent: a failed commit must become a 5xx, never a 2xx the client trusts.

    Args:
        request: the current request; the app's sessionmaker is on ``app.state``.

    Yields:
        The session for this request.
    """
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with session_scope(sessionmaker) as session:
        yield session


async def get_snapshot_session(request: Request) -> AsyncIterator[AsyncSession]:
    """FastAPI dependency: the request's unit of work, reading one snapshot (``REPEATABLE READ``).

    For a read assembled from several queries, such as a case's status beside its timeline: under
    ``READ COMMITTED`` each statement sees the latest commit, so an event's handler committing
    between two of them yields a page that is half before the event and half after it (the
    timeline says 已受理 while the promised date is still unknown). Keep it to reads: a write
    under ``REPEATABLE READ`` to a row another transaction changed meanwhile fails instead of waiting.

    Args:
        request: the current request; the app's sessionmaker is on ``app.state``.

    Yields:
        The session, its connection already in the transaction's isolation level.
    """
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with session_scope(sessionmaker) as session:
        # Only the first procurement of the connection takes execution options, so it comes first.
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        yield session
