"""Transactional outbox and inbox tables, and how a unit of work adds an event."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    event as sa_event,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql import Insert

from yiwang_common.db import _deferred
from yiwang_common.db.types import TZDateTime, utcnow
from yiwang_common.events.envelope import EventEnvelope

OUTBOX_NOTIFY_KEY = "outbox_notify"
_DIRTY_KEY = "outbox_dirty"


@dataclass(frozen=True)
class MessagingTables:
    """The tables every event-producing or -consuming service has in its own schema.

    ``dead_letter`` (死信) holds what could not be published (``outgoing``) or handled
    (``incoming``) after bounded retries, so that it never blocks what comes after it.
    """

    outbox: Table
    inbox: Table
    dead_letter: Table


def messaging_tables(metadata: MetaData) -> MessagingTables:
    """Define the ``outbox`` and ``inbox`` tables on a service's metadata.

    Args:
        metadata: the service's ``Base.metadata``; the service's migrations create the tables.

    Returns:
        The two tables.
    """
    outbox = Table(
        "outbox",
        metadata,
        Column("seq", BigInteger(), primary_key=True, autoincrement=True),
        Column("event_id", Uuid(), nullable=False, unique=True),
        Column("subject", String(255), nullable=False),
        Column("payload", LargeBinary(), nullable=False),
        Column("created_at", TZDateTime(), nullable=False, default=utcnow),
        Column("published_at", TZDateTime(), nullable=True),
        Column("attempts", Integer(), nullable=False, default=0),
        # The latest failed publish, so an operator sees why a row is still waiting.
        Column("last_error", Text(), nullable=True),
    )
    Index(
        "ix_outbox_unpublished",
        outbox.c.seq,
        postgresql_where=outbox.c.published_at.is_(None),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("event_id", Uuid(), primary_key=True),
        Column("consumer", String(100), nullable=False),
        Column("subject", String(255), nullable=False),
        Column("processed_at", TZDateTime(), nullable=False, default=utcnow),
    )
    dead_letter = Table(
        "dead_letter",
        metadata,
        Column("id", BigInteger(), Identity(), primary_key=True),
        Column("kind", String(16), nullable=False),  # outgoing | incoming
        Column("consumer", String(100), nullable=True),  # the durable, for incoming
        Column("subject", String(255), nullable=False),
        # None only for an incoming message too broken to carry an id.
        Column("event_id", Uuid(), nullable=True),
        Column("payload", LargeBinary(), nullable=False),
        Column("error", Text(), nullable=False),
        Column("attempts", Integer(), nullable=False),
        Column("first_seen_at", TZDateTime(), nullable=False),
        Column("parked_at", TZDateTime(), nullable=False, default=utcnow),
        Column("replayed_at", TZDateTime(), nullable=True),
    )
    Index(
        "ix_dead_letter_parked",
        dead_letter.c.kind,
        dead_letter.c.id,
        postgresql_where=dead_letter.c.replayed_at.is_(None),
    )
    # One row per consumer and event while it is parked: the consumer's park inserts ON CONFLICT
    # DO NOTHING against it, so two replicas parking copies of one message at once write one row.
    Index(
        "uq_dead_letter_parked_once",
        dead_letter.c.consumer,
        dead_letter.c.event_id,
        unique=True,
        postgresql_where=text("kind = 'incoming' AND replayed_at IS NULL"),
    )
    return MessagingTables(outbox=outbox, inbox=inbox, dead_letter=dead_letter)


def serialize(event: EventEnvelope) -> bytes:
    """Render an envelope as the bytes that go on the wire.

    Args:
        event: the envelope.

    Returns:
        Compact JSON.
    """
    return orjson.dumps(event.model_dump(mode="json", exclude_none=True))


_INSERTS: dict[Table, Insert] = {}


def _insert_statement(outbox: Table) -> Insert:
    # One statement object per table: deferred rows are grouped by it.
    statement = _INSERTS.get(outbox)
    if statement is None:
        statement = _INSERTS[outbox] = outbox.insert()
    return statement


async def enqueue(session: AsyncSession, outbox: Table, *events: EventEnvelope) -> None:
    """Add events to the outbox inside the caller's unit of work.

    They are written when that unit of work's transaction commits, batched with its other
    events (see :mod:`yiwang_common.db._deferred`), and become visible to the relay only then,
    so an event is published if and only if its state change happened. Events enqueued inside
    a savepoint that rolls back are dropped with it; the others stay.

    Args:
        session: the current unit of work.
        outbox: the service's outbox table.
        *events: the envelopes to publish.
    """
    if not events:
        return
    now = utcnow()
    # Nothing reads the outbox inside the unit of work that writes it, so the rows go out with the
    # commit, batched with the other events of the unit of work (a consumer batch has many).
    statement = _insert_statement(outbox)
    for e in events:
        _deferred.queue(
            session,
            statement,
            {
                "event_id": e.id,
                "subject": e.nats_subject,
                "payload": serialize(e),
                "created_at": now,
                "attempts": 0,
            },
        )
    session.info[_DIRTY_KEY] = True


def outbox_row(session: AsyncSession, event: EventEnvelope) -> dict[str, Any]:
    """The outbox row of ``event``, for a hot path that writes it inside one of its own statements.

    :func:`enqueue` costs a statement of its own at commit. A unit of work whose last statement
    is a prebuilt write can carry the outbox row in it instead (``WITH … INSERT INTO outbox …``,
    inside the service's ``repository.py``), saving that round trip. The row commits with the
    state change, or not at all, exactly as an enqueued one does, and the relay is woken at the
    commit. The caller must execute the statement in ``session``'s transaction, as its last write.

    Args:
        session: the current unit of work.
        event: the envelope.

    Returns:
        The row's values (``event_id``, ``subject``, ``payload``, ``created_at``, ``attempts``).
    """
    session.info[_DIRTY_KEY] = True
    return {
        "event_id": event.id,
        "subject": event.nats_subject,
        "payload": serialize(event),
        "created_at": utcnow(),
        "attempts": 0,
    }


@sa_event.listens_for(Session, "after_commit")
def _wake_relay(session: Session) -> None:
    # Waking the relay right after commit keeps latency low without polling hard. after_commit
    # also fires when a savepoint is released: only the outermost commit makes rows visible.
    if session.get_nested_transaction() is not None:
        return
    if session.info.pop(_DIRTY_KEY, False):
        notify: Callable[[], None] | None = session.info.get(OUTBOX_NOTIFY_KEY)
        if notify is not None:
            notify()


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_dirty(session: Session, transaction: SessionTransaction) -> None:
    # Not on a savepoint's rollback: events enqueued before it still go out. (If all of them were
    # inside it, the relay wakes once for nothing.)
    if transaction.parent is None:
        session.info.pop(_DIRTY_KEY, None)
