"""Dialect-aware ``INSERT … ON CONFLICT``: the one statement every upsert here is built on."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_datasharing.db import Base


def upsert_insert(session: AsyncSession, model: type[Base]) -> Any:
    """Return an ``INSERT`` into ``model``'s table that supports ``on_conflict_do_*`` on the session's backend.

    Both PostgreSQL and SQLite speak ``ON CONFLICT``; only the SQLAlchemy construct differs.
    """
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)
