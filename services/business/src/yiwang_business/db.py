"""Declarative base and messaging tables of the business service (schema ``business``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from yiwang_common.db import NAMING_CONVENTION
from yiwang_common.events import messaging_tables


class Base(DeclarativeBase):
    """Base of every ORM model of this service."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


messaging = messaging_tables(Base.metadata)


def column_values(obj: Base) -> dict[str, Any]:
    """The column values of a new, never-added ORM object, as parameters of a prebuilt Core ``INSERT``.

    The hot path builds its rows as model instances (one constructor, typed) but writes them with
    prebuilt statements; the instance is never added to a session, so no tracked copy exists.
    """
    return {c.key: getattr(obj, c.key) for c in obj.__table__.c}
