"""Shared column types."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

#: JSON documents are ``jsonb``: indexable and compared by value, not by text.
JSONType = JSONB()


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime.

    Returns:
        ``datetime.now(UTC)``.
    """
    return datetime.now(UTC)


class TZDateTime(TypeDecorator[datetime]):
    """An aware UTC ``timestamptz`` that refuses naive values."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, _backend: Any) -> datetime | None:
        """Store UTC; refuse naive values, which are ambiguous in a record of when things happened."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a TZDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, _backend: Any) -> datetime | None:
        """Return aware UTC datetimes."""
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.astimezone(UTC)
