"""Declarative base and messaging tables of the business service (schema ``business``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase, configure_mappers

from yiwang_common.db import NAMING_CONVENTION
from yiwang_common.events import messaging_tables


class Base(DeclarativeBase):
    """Base of every ORM model of this service."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


messaging = messaging_tables(Base.metadata)

B = TypeVar("B", bound=Base)


def transient(model: type[B], values: Mapping[str, Any]) -> B:
    """A transient ``model`` instance holding ``values``, built without per-attribute events.

    For the hot path's value objects (rows read back by a prebuilt statement, rows about to be
    written by one): the constructor fires an instrumentation event per attribute, which costs
    more than the statement itself. The instance is never added to a session; reading its
    attributes and setting them later work as on any transient instance.
    """
    mapper = model.__mapper__
    if not mapper.configured:
        # The constructor would configure the mappers (attribute instrumentation) on first use.
        configure_mappers()
    obj: B = mapper.class_manager.new_instance()
    obj.__dict__.update(values)
    return obj


def column_values(obj: Base) -> dict[str, Any]:
    """The column values of a new, never-added ORM object, as parameters of a prebuilt Core ``INSERT``.

    The hot path builds its rows as model instances (one constructor, typed) but writes them with
    prebuilt statements; the instance is never added to a session, so no tracked copy exists.
    """
    table = obj.__table__
    keys = _COLUMN_KEYS.get(table)
    if keys is None:
        keys = _COLUMN_KEYS[table] = tuple(c.key for c in table.c)
    # A value set on the instance is in its dict; reading it there skips the attribute's descriptor.
    values = obj.__dict__
    return {k: values[k] if k in values else getattr(obj, k) for k in keys}


_COLUMN_KEYS: dict[Any, tuple[str, ...]] = {}
