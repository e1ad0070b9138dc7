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
