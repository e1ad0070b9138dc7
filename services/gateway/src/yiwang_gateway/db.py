"""Declarative base and messaging tables of the gateway service (schema ``gateway``)."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from yiwang_common.db import NAMING_CONVENTION
from yiwang_common.events import messaging_tables


class Base(DeclarativeBase):
    """Base of every ORM model of this service."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


messaging = messaging_tables(Base.metadata)
