"""Async SQLAlchemy: engines, one unit of work per request or message, shared column types.

PostgreSQL only: every service owns one schema in the shared database; its connections run with
``search_path`` set to that schema, so models and migrations name tables without a schema.
"""

from __future__ import annotations

from yiwang_common.db._deferred import WriteAtCommit
from yiwang_common.db.engine import (
    NAMING_CONVENTION,
    create_engine,
    create_sessionmaker,
)
from yiwang_common.db.types import JSONType, TZDateTime, utcnow
from yiwang_common.db.uow import get_session, get_snapshot_session, session_scope

__all__ = [
    "NAMING_CONVENTION",
    "JSONType",
    "TZDateTime",
    "WriteAtCommit",
    "create_engine",
    "create_sessionmaker",
    "get_session",
    "get_snapshot_session",
    "session_scope",
    "utcnow",
]
