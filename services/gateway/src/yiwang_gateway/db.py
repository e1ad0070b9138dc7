"""Declarative base and messaging tables of the gateway service (schema ``gateway``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

from yiwang_common.db import NAMING_CONVENTION
from yiwang_common.events import messaging_tables


class Base(DeclarativeBase):
    """Base of every ORM model of this service."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


messaging = messaging_tables(Base.metadata)


def dialect_insert(session: AsyncSession, table: Any) -> Any:
    """Return an INSERT that supports ``on_conflict_*`` on the session's backend.

    PostgreSQL and SQLite both speak ``INSERT … ON CONFLICT``; SQLAlchemy only exposes it
    through the dialect-specific constructs.
    """
    if session.get_bind().dialect.name == "postgresql":
        return pg_insert(table)
    return sqlite_insert(table)
