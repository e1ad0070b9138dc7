"""Durable JetStream pull consumers whose effects and inbox rows commit together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pydantic import ValidationError
from sqlalchemy import DateTime, Insert, String, Table, Uuid, bindparam, column, func, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.dml import ReturningInsert

from yiwang_common.config import NatsSettings
from yiwang_common.db.types import utcnow
from yiwang_common.events.envelope import EventData, EventEnvelope
from yiwang_common.events.streams import ensure_stream, stream_name
from yiwang_common.observability import bind_context, reset_context

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, EventEnvelope, Any], Awaitable[None]]


class RetryLater(Exception):
    """Raised by a handler that cannot act yet (e.g. an event arrived before its predecessor).

    The message is redelivered after a delay and nothing it did is committed.
    """


@dataclass(frozen=True)
class Subscription:
    """What one durable consumer reads and who handles each event type.

    Attributes:
        durable: consumer name, ``<consumer-service>__<source-service>``.
        source: the producing service whose stream is read.
        handlers: payload model to handler; the model's subject is the filter subject.
    """

    durable: str
    source: str
    handlers: Mapping[type[EventData], Handler] = field(default_factory=dict)

    @property
    def by_subject(self) -> dict[str, tuple[type[EventData], Handler]]:
        """Return handlers keyed by NATS subject."""
        return {model.subject: (model, handler) for model, handler in self.handlers.items()}


@dataclass
class _Parsed:
    msg: Msg | None
    envelope: EventEnvelope | None
    data: EventData | None
    handler: Handler | None
    subject: str = ""
    payload: bytes = b""
    error: str | None = None


def parse_message(
    subject: str,
    payload: bytes,
    routes: Mapping[str, tuple[type[EventData], Handler]],
    msg: Msg | None = None,
) -> _Parsed:
    """Parse a message's envelope and payload for the handler its subject routes to.

    Raises:
        ValueError, ValidationError, KeyError: the message cannot be handled as it is.
    """
    # pydantic-core parses the JSON itself: one pass instead of orjson and then validation.
    envelope = EventEnvelope.model_validate_json(payload)
    model, handler = routes[subject]
    data = model.model_validate(envelope.data)
    return _Parsed(msg, envelope, data, handler, subject=subject, payload=payload)


async def apply_events(session: AsyncSession, inbox: Table, durable: str, batch: Sequence[_Parsed]) -> int:
    """Run the handlers of the events not handled before, inside the caller's unit of work.

    Args:
        session: the unit of work; the inbox rows commit with the handlers' effects.
        inbox: the consuming service's inbox table.
        durable: the consumer's name, written to the inbox.
        batch: parsed events.

    Returns:
        How many events were new (the others had been handled already).
    """
    new = await _claim(session, inbox, durable, batch)
    for p in new:
        assert p.envelope is not None and p.handler is not None
        tokens = bind_context(correlation_id=p.envelope.correlationid, traceparent=p.envelope.traceparent)
        try:
            await p.handler(session, p.envelope, p.data)
        finally:
            reset_context(tokens)
    return len(new)


async def _claim(
    session: AsyncSession, inbox: Table, durable: str, batch: Sequence[_Parsed]
) -> list[_Parsed]:
    """Write the batch's event ids to the inbox; return the messages not handled before.

    One statement for the whole batch: ``INSERT … ON CONFLICT DO NOTHING RETURNING`` gives
    back exactly the ids that were new. A concurrent replica inserting the same id makes
    PostgreSQL wait for its transaction and then skip the row, so each event is handled once.
    """
    unique: dict[uuid.UUID, _Parsed] = {}
    for p in batch:
        assert p.envelope is not None
        unique.setdefault(p.envelope.id, p)
    params = {
        "event_ids": list(unique),
        "subjects": [p.subject for p in unique.values()],
        "consumer": durable,
        "processed_at": utcnow(),
    }
    new = set((await session.execute(_claim_statement(inbox), params)).scalars())
    return [p for event_id, p in unique.items() if event_id in new]


#: inbox table -> its claim statement, built once: the batch goes in as arrays, so the SQL (and
#: its compiled and prepared forms) is the same whatever the batch size (ADR 0125).
_CLAIMS: dict[Table, Insert] = {}


def _claim_statement(inbox: Table) -> Insert:
    statement = _CLAIMS.get(inbox)
    if statement is None:
        rows = (
            func.unnest(
                bindparam("event_ids", type_=postgresql.ARRAY(Uuid())),
                bindparam("subjects", type_=postgresql.ARRAY(String())),
            )
            .table_valued(column("event_id", Uuid()), column("subject", String()))
            .render_derived()
        )
        source = select(
            rows.c.event_id,
            bindparam("consumer", type_=String()),
            rows.c.subject,
            bindparam("processed_at", type_=DateTime(timezone=True)),
        )
        statement = (
            postgresql.insert(inbox)
            .from_select(["event_id", "consumer", "subject", "processed_at"], source)
            .on_conflict_do_nothing(index_elements=[inbox.c.event_id])
            .returning(inbox.c.event_id)
        )
        _CLAIMS[inbox] = statement
    return statement


def supports_filter_subjects(js: JetStreamContext) -> bool:
    """Tell whether the connected server takes several filter subjects on one consumer (2.10+)."""
    try:
        version = js._nc.connected_server_version
        return (version.major, version.minor) >= (2, 10)
    except (AttributeError, ValueError, TypeError):
        return False


def filter_subject(subjects: Mapping[str, object]) -> str:
    """Return one filter subject covering every handled subject.

    One subject where there is one; otherwise the common token prefix plus ``>``. A single
    filter works on every JetStream server (``filter_subjects`` needs 2.10, and the servers we
    run beside include 2.9); events inside the filter that no handler wants are acked unread.
    On 2.10 and later the consumer lists its subjects instead (:meth:`ConsumerRunner.consumer_config`).

    Args:
        subjects: the handled subjects.

    Returns:
        A NATS subject, possibly ending in ``>``.
    """
    names = sorted(subjects)
    if len(names) == 1:
        return names[0]
    parts = [name.split(".") for name in names]
    common: list[str] = []
    for tokens in zip(*parts, strict=False):
        if len(set(tokens)) != 1:
            break
        common.append(tokens[0])
    return ".".join([*common, ">"])


class ConsumerRunner:
    """Runs one :class:`Subscription` until stopped.

    Messages are fetched in batches and handled in one transaction per batch, with their
    event ids written to the inbox in that same transaction; already-seen ids are skipped,
    which makes redelivery harmless. If the batch fails, each message is retried in its own
    transaction so that one bad message cannot hold the others back. Failures are negatively
    acknowledged with a growing delay; a message that still fails at its ``max_deliver``-th
    delivery, or cannot be parsed at all, is parked in the dead-letter table and terminated, so
    nothing is dropped unseen and nothing blocks the messages behind it. The bound is kept here,
    not by the server, so that a message is only let go once its dead-letter row has committed.
    """

    def __init__(
        self,
        js: JetStreamContext,
        sessionmaker: async_sessionmaker[AsyncSession],
        inbox: Table,
        subscription: Subscription,
        settings: NatsSettings,
        *,
        dead_letter: Table | None = None,
        batch_size: int = 200,
        fetch_timeout: float = 1.0,
    ) -> None:
        """Create a runner.

        Args:
            js: a JetStream context.
            sessionmaker: the consuming service's sessionmaker.
            inbox: the consuming service's inbox table.
            subscription: what to read and how to handle it.
            settings: redelivery limits.
            dead_letter: the consuming service's dead-letter table; without one, failures past
                ``max_deliver`` are terminated and only logged.
            batch_size: messages per fetch and per transaction.
            fetch_timeout: seconds a fetch waits for messages.
        """
        self._js = js
        self._sessionmaker = sessionmaker
        self._inbox = inbox
        self._dead_letter = dead_letter
        self._sub = subscription
        self._settings = settings
        self._batch_size = batch_size
        self._fetch_timeout = fetch_timeout
        self._routes = subscription.by_subject
        self._stopping = asyncio.Event()
        self.processed = 0
        self.parked = 0

    def stop(self) -> None:
        """Ask :meth:`run` to return after the current batch."""
        self._stopping.set()

    def consumer_config(self) -> ConsumerConfig:
        """Return the durable consumer's configuration.

        Returns:
            Explicit acks; exactly the handled subjects where the server takes several
            (nats-server 2.10+), so that events no handler wants are never sent, received and
            acked; otherwise one filter subject covering them; deliveries unbounded on the
            server (the runner parks a message at ``max_deliver``).
        """
        exact = len(self._routes) > 1 and supports_filter_subjects(self._js)
        return ConsumerConfig(
            durable_name=self._sub.durable,
            name=self._sub.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=float(self._settings.ack_wait_seconds),
            max_deliver=-1,
            max_ack_pending=10_000,
            filter_subject=None if exact else filter_subject(self._routes),
            filter_subjects=sorted(self._routes) if exact else None,
        )

    async def run(self) -> None:
        """Fetch and handle messages until stopped; reconnect problems are retried."""
        psub = None
        while not self._stopping.is_set():
            try:
                if psub is None:
                    await ensure_stream(self._js, self._sub.source, self._settings)
                    await self._ensure_consumer()
                    psub = await self._js.pull_subscribe_bind(
                        durable=self._sub.durable, stream=stream_name(self._sub.source)
                    )
                msgs = await self._next_batch(psub)
                if msgs:
                    await self.handle_batch(msgs)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("consumer round failed; retrying", extra={"consumer": self._sub.durable})
                psub = None
                await asyncio.sleep(1.0)

    async def _next_batch(self, psub: JetStreamContext.PullSubscription) -> list[Msg]:
        # A pull for N messages lingers until N arrive or it expires, so a lone event would
        # wait out the whole fetch timeout. Instead: wait for one, then take whatever else is
        # already there with a pull that gives up almost at once.
        try:
            msgs = await psub.fetch(1, timeout=self._fetch_timeout)
        except (NatsTimeoutError, TimeoutError):
            return []
        if self._batch_size > 1:
            try:
                msgs += await psub.fetch(self._batch_size - 1, timeout=0.005)
            except (NatsTimeoutError, TimeoutError):
                pass
        return msgs

    async def _ensure_consumer(self) -> None:
        # Without an explicit action the server creates or updates, so filter subjects may grow.
        await self._js.add_consumer(stream_name(self._sub.source), config=self.consumer_config())

    async def handle_batch(self, msgs: Sequence[Msg]) -> None:
        """Handle fetched messages: one transaction for all, falling back to one each.

        While they are being handled the server is told every few seconds that they are in
        progress, so a short ``ack_wait`` (fast redelivery after a crash) does not redeliver
        messages that a live consumer is merely slow with.

        Args:
            msgs: messages from one fetch.
        """
        keepalive = asyncio.create_task(self._keep_alive(msgs))
        try:
            await self._handle_batch(msgs)
        finally:
            keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keepalive

    async def _keep_alive(self, msgs: Sequence[Msg]) -> None:
        interval = max(self._settings.ack_wait_seconds / 3, 0.5)
        while True:
            await asyncio.sleep(interval)
            for m in msgs:
                with contextlib.suppress(Exception):  # already acked, or the connection is away
                    await m.in_progress()

    async def _handle_batch(self, msgs: Sequence[Msg]) -> None:
        wanted = [m for m in msgs if m.subject in self._routes]
        for m in msgs:
            if m.subject not in self._routes:
                # Inside the filter but not handled here (a sibling event type): nothing to do.
                await m.ack()
        parsed = [self._parse(m) for m in wanted]
        for p in parsed:
            if p.envelope is None:
                await self._park(p, p.error or "unparseable message")
        good = [p for p in parsed if p.envelope is not None]
        if not good:
            return
        try:
            await self._process(good)
        except Exception as exc:
            if len(good) == 1:
                await self._nak(good[0], exc)
                return
            for p in good:
                try:
                    await self._process([p])
                except Exception as one_exc:
                    await self._nak(p, one_exc)
                    continue
                assert p.msg is not None
                await p.msg.ack()
            return
        for p in good:
            assert p.msg is not None
            await p.msg.ack()

    def _parse(self, msg: Msg) -> _Parsed:
        try:
            return parse_message(msg.subject, msg.data, self._routes, msg)
        except (ValueError, ValidationError, KeyError) as exc:
            log.error(
                "poison message parked",
                extra={"consumer": self._sub.durable, "subject": msg.subject, "bytes": len(msg.data)},
            )
            return _Parsed(msg, None, None, None, error=f"{type(exc).__name__}: {exc}"[:4000])

    async def _process(self, batch: Sequence[_Parsed]) -> None:
        async with self._sessionmaker() as session, session.begin():
            await apply_events(session, self._inbox, self._sub.durable, batch)
        self.processed += len(batch)

    async def _nak(self, p: _Parsed, exc: Exception) -> None:
        assert p.msg is not None
        attempt = p.msg.metadata.num_delivered if p.msg.metadata else 1
        if attempt >= self._settings.max_deliver:
            await self._park(p, f"{type(exc).__name__}: {exc}"[:4000], attempts=attempt)
            return
        delay = min(0.5 * (2 ** (attempt - 1)), 30.0)
        if isinstance(exc, RetryLater):
            log.info("event not ready; redelivering", extra={"subject": p.msg.subject, "attempt": attempt})
        else:
            log.error(
                "event handler failed; redelivering",
                exc_info=exc,
                extra={"subject": p.msg.subject, "attempt": attempt, "consumer": self._sub.durable},
            )
        await p.msg.nak(delay=delay)

    async def _park(self, p: _Parsed, error: str, *, attempts: int | None = None) -> None:
        """Record the message as a dead letter, then terminate it so that the others flow.

        If the row cannot be written the message is left to be redelivered, never dropped.
        """
        msg = p.msg
        assert msg is not None
        if attempts is None:
            attempts = msg.metadata.num_delivered if msg.metadata else 1
        if self._dead_letter is not None:
            first_seen = msg.metadata.timestamp if msg.metadata and msg.metadata.timestamp else utcnow()
            event_id = p.envelope.id if p.envelope is not None else _event_id(msg)
            async with self._sessionmaker() as session, session.begin():
                written = await session.scalar(
                    _park_statement(self._dead_letter, event_id),
                    {
                        "kind": "incoming",
                        "consumer": self._sub.durable,
                        "subject": msg.subject,
                        "event_id": event_id,
                        "payload": msg.data,
                        "error": error,
                        "attempts": attempts,
                        "first_seen_at": first_seen,
                        "parked_at": utcnow(),
                    },
                )
            if written is not None:
                self.parked += 1
            else:
                # A second copy of a message parked already: JetStream redelivered it (its ack
                # wait ran out while the first copy was being handled) before the term reached it.
                log.warning(
                    "event already parked; this copy is let go",
                    extra={"subject": msg.subject, "consumer": self._sub.durable, "event_id": str(event_id)},
                )
                await msg.term()
                return
        log.error(
            "event parked as dead letter",
            extra={
                "subject": msg.subject,
                "consumer": self._sub.durable,
                "attempts": attempts,
                "error": error,
            },
        )
        await msg.term()


def _park_statement(dead_letter: Table, event_id: uuid.UUID | None) -> ReturningInsert[tuple[int]]:
    """The dead-letter row, unless the same consumer holds that event parked and not replayed yet.

    The unique index ``uq_dead_letter_parked_once`` decides, not a read before the insert: a copy
    parked by another replica at the same moment is not visible to a read until it commits, while
    the index makes this insert wait for it and then write nothing (no row returned).
    """
    names = (
        "kind",
        "consumer",
        "subject",
        "event_id",
        "payload",
        "error",
        "attempts",
        "first_seen_at",
        "parked_at",
    )
    values = select(*(bindparam(n, type_=dead_letter.c[n].type) for n in names))
    statement = pg_insert(dead_letter).from_select(list(names), values)
    if event_id is not None:
        # Without an id (a body too broken to carry one) there is nothing to tell copies apart by.
        statement = statement.on_conflict_do_nothing(
            index_elements=[dead_letter.c.consumer, dead_letter.c.event_id],
            index_where=text("kind = 'incoming' AND replayed_at IS NULL"),
        )
    return statement.returning(dead_letter.c.id)


def _event_id(msg: Msg) -> uuid.UUID | None:
    # An unparseable body may still have come with the relay's Nats-Msg-Id header.
    raw = (msg.headers or {}).get("Nats-Msg-Id")
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        return None
