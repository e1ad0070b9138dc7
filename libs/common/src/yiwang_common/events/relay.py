"""The relay: publishes committed outbox rows to JetStream and marks them sent."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence

from nats.js import JetStreamContext
from sqlalchemy import Table, Update, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.db.types import utcnow

log = logging.getLogger(__name__)


class OutboxRelay:
    """Polling publisher with an in-process wake-up.

    Rows are claimed in insertion order with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
    several replicas of a service can relay side by side, and marked in the same statement. Each
    row is published with ``Nats-Msg-Id`` = event id and every PubAck is awaited before the mark
    commits; a crash in between re-sends the row, which JetStream drops as a duplicate inside its
    window and consumers drop through their inbox after it.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        outbox: Table,
        js: JetStreamContext,
        *,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        publish_timeout: float = 10.0,
        coalesce: float = 0.005,
    ) -> None:
        """Create a relay.

        Args:
            sessionmaker: the service's sessionmaker.
            outbox: the service's outbox table.
            js: a JetStream context.
            batch_size: rows published per round trip.
            poll_interval: seconds between polls when nothing wakes the relay.
            publish_timeout: seconds to wait for PubAcks before the batch is retried.
            coalesce: seconds to wait after a wake-up so that concurrent commits share a batch.
        """
        self._sessionmaker = sessionmaker
        self._outbox = outbox
        self._js = js
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._publish_timeout = publish_timeout
        self._coalesce = coalesce
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._claim: Update | None = None
        self.published = 0

    def notify(self) -> None:
        """Wake the relay: a unit of work with events has just committed."""
        self._wake.set()

    def stop(self) -> None:
        """Ask :meth:`run` to return after the current batch."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Publish until stopped; errors are logged and retried with backoff."""
        backoff = 0.2
        while not self._stopping.is_set():
            try:
                sent = await self.publish_pending()
                backoff = 0.2
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay round failed; retrying")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            if sent >= self._batch_size:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll_interval)
                # Under load every commit wakes the relay; a moment's pause lets the units of work
                # committing right now share one round trip instead of paying one each.
                await asyncio.sleep(self._coalesce)
            except TimeoutError:
                pass
            self._wake.clear()

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished rows.

        Returns:
            How many rows were published and marked.
        """
        async with self._sessionmaker() as session, session.begin():
            statement = self._claim_statement()
            # RETURNING does not promise an order; events go out in the order they were written.
            rows = sorted((await session.execute(statement, {"now": utcnow()})).all(), key=lambda r: r.seq)
            if not rows:
                return 0
            await self._publish([(r.event_id, r.subject, r.payload) for r in rows])
        self.published += len(rows)
        return len(rows)

    def _claim_statement(self) -> Update:
        """One statement that takes the oldest unpublished rows and marks them, returning them.

        The mark only commits after every PubAck has come back; if publishing fails the unit of
        work rolls back and the rows are unpublished again. ``FOR UPDATE SKIP LOCKED`` lets
        replicas claim disjoint rows side by side.
        """
        statement = self._claim
        if statement is None:
            o = self._outbox
            oldest = (
                select(o.c.seq)
                .where(o.c.published_at.is_(None))
                .order_by(o.c.seq)
                .limit(self._batch_size)
                .with_for_update(skip_locked=True)
            )
            statement = self._claim = (
                update(o)
                .where(o.c.seq.in_(oldest.scalar_subquery()))
                .values(published_at=bindparam("now", type_=o.c.published_at.type))
                .returning(o.c.seq, o.c.event_id, o.c.subject, o.c.payload)
            )
        return statement

    async def _publish(self, rows: Sequence[tuple[uuid.UUID, str, bytes]]) -> None:
        futures = [
            await self._js.publish_async(subject, payload, headers={"Nats-Msg-Id": str(event_id)})
            for event_id, subject, payload in rows
        ]
        await asyncio.wait_for(asyncio.gather(*futures), timeout=self._publish_timeout)
