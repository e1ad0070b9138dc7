"""The relay: publishes committed outbox rows to JetStream, marks them sent, parks the unpublishable."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import nats.errors
import nats.js.errors
from nats.js import JetStreamContext
from sqlalchemy import Row, Select, Table, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.db.types import utcnow

log = logging.getLogger(__name__)

#: NATS's default ``max_payload`` (1 MiB); the relay is told the server's real one when it knows it.
DEFAULT_MAX_PAYLOAD = 1024 * 1024
# The Nats-Msg-Id header and the protocol line travel inside the same limit as the payload.
_HEADER_ALLOWANCE = 256


class ConnectionLost(Exception):
    """The connection to NATS dropped while PubAcks were outstanding."""


@dataclass
class _Outcome:
    acked_at: datetime | None = None
    error: str | None = None
    # True: this message can never be published as it is (too large, bad subject) - park at once.
    permanent: bool = False
    # True: the server refused this very message; counts towards parking. False: the bus was away.
    own_fault: bool = False


class OutboxRelay:
    """Polling publisher with an in-process wake-up.

    Rows are claimed in insertion order with ``FOR UPDATE SKIP LOCKED``, so several replicas of a
    service can relay side by side. Each row is published with ``Nats-Msg-Id`` = event id and marked
    with the time its PubAck arrived; a crash in between re-sends the row, which JetStream drops as
    a duplicate inside its window and consumers drop through their inbox after it.

    A row that fails counts an attempt and keeps the error. One that can never go out as it is
    (larger than ``max_payload``, a subject NATS refuses) is parked in the dead-letter table at
    once, one the server keeps refusing after ``max_attempts``; either way the rows behind it flow.
    Losing the connection is not the row's fault: it is retried as soon as NATS is back, never parked.
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        outbox: Table,
        js: JetStreamContext,
        *,
        dead_letter: Table | None = None,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        publish_timeout: float = 10.0,
        coalesce: float = 0.005,
        max_attempts: int = 5,
        max_payload: int = DEFAULT_MAX_PAYLOAD,
    ) -> None:
        """Create a relay.

        Args:
            sessionmaker: the service's sessionmaker.
            outbox: the service's outbox table.
            js: a JetStream context.
            dead_letter: the service's dead-letter table; without one nothing is parked.
            batch_size: rows published per round trip.
            poll_interval: seconds between polls when nothing wakes the relay.
            publish_timeout: seconds to wait for PubAcks before the batch is retried.
            coalesce: seconds to wait after a wake-up so that concurrent commits share a batch.
            max_attempts: refusals by the server after which a row is parked.
            max_payload: the server's ``max_payload`` in bytes.
        """
        self._sessionmaker = sessionmaker
        self._outbox = outbox
        self._dead_letter = dead_letter
        self._js = js
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._publish_timeout = publish_timeout
        self._coalesce = coalesce
        self._max_attempts = max_attempts
        self.max_payload = max_payload
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._inflight: list[asyncio.Future[Any]] = []
        self._claim = self._claim_statement()
        self.published = 0
        self.parked = 0
        self.failed = 0

    def notify(self) -> None:
        """Wake the relay: a unit of work with events has just committed, or NATS is back."""
        self._wake.set()

    def connection_lost(self) -> None:
        """Fail every outstanding PubAck at once: they will not come over a dropped connection.

        Called from the NATS client's ``disconnected_cb``; without it the relay would wait out its
        whole publish timeout although NATS may be back within a second.
        """
        for future in self._inflight:
            if not future.done():
                future.set_exception(ConnectionLost("NATS 连接中断 (connection lost before PubAck)"))

    def stop(self) -> None:
        """Ask :meth:`run` to return after the current batch."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Publish until stopped; failed rounds are retried with a short backoff."""
        backoff = 0.2
        while not self._stopping.is_set():
            try:
                failed_before = self.failed
                sent = await self.publish_pending()
                healthy = self.failed == failed_before
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay round failed; retrying")
                sent, healthy = 0, False
            if not healthy:
                # A wake-up (NATS reconnected, a new commit) cuts the pause short.
                await self._pause(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            backoff = 0.2
            if sent >= self._batch_size:
                continue
            if await self._pause(self._poll_interval):
                # Under load every commit wakes the relay; a moment's pause lets the units of work
                # committing right now share one round trip instead of paying one each.
                await asyncio.sleep(self._coalesce)

    async def _pause(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
            woken = True
        except TimeoutError:
            woken = False
        self._wake.clear()
        return woken

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished rows.

        Returns:
            How many rows were published and marked.
        """
        async with self._sessionmaker() as session, session.begin():
            rows = (await session.execute(self._claim)).all()
            if not rows:
                return 0
            outcomes = await self._publish(rows)
            await self._record(session, rows, outcomes)
        sent = sum(1 for o in outcomes if o.acked_at is not None)
        self.published += sent
        return sent

    def _claim_statement(self) -> Select[Any]:
        """The oldest unpublished rows, locked so that replicas claim disjoint rows side by side.

        The locks last until the batch's marks commit, after every PubAck has come back.
        """
        o = self._outbox
        return (
            select(o.c.seq, o.c.event_id, o.c.subject, o.c.payload, o.c.attempts, o.c.created_at)
            .where(o.c.published_at.is_(None))
            .order_by(o.c.seq)
            .limit(self._batch_size)
            .with_for_update(skip_locked=True)
        )

    async def _publish(self, rows: Sequence[Row[Any]]) -> list[_Outcome]:
        outcomes = [_Outcome() for _ in rows]
        futures: list[asyncio.Future[Any]] = []
        for row, outcome in zip(rows, outcomes, strict=True):
            if len(row.payload) + _HEADER_ALLOWANCE > self.max_payload:
                # nats-py would raise only after registering the PubAck future, leaking it.
                outcome.error = (
                    f"事件超过 NATS 消息大小上限 (payload {len(row.payload)} bytes > max_payload"
                    f" {self.max_payload})"
                )
                outcome.permanent = True
                continue
            try:
                future = await self._js.publish_async(
                    row.subject, row.payload, headers={"Nats-Msg-Id": str(row.event_id)}
                )
            except (
                nats.errors.MaxPayloadError,
                nats.errors.BadSubjectError,
                nats.errors.BadHeaderError,
            ) as exc:
                outcome.error, outcome.permanent = f"{type(exc).__name__}: {exc}", True
                continue
            except Exception as exc:
                outcome.error = f"{type(exc).__name__}: {exc}"
                continue

            def acked(f: asyncio.Future[Any], outcome: _Outcome = outcome) -> None:
                if not f.cancelled() and f.exception() is None:
                    outcome.acked_at = utcnow()

            future.add_done_callback(acked)
            futures.append(future)
        self._inflight = futures
        try:
            if futures:
                _, pending = await asyncio.wait(futures, timeout=self._publish_timeout)
                for future in pending:
                    future.cancel()
        finally:
            self._inflight = []
        for outcome, future in zip((o for o in outcomes if o.error is None), futures, strict=True):
            if future.cancelled():
                outcome.error = f"no PubAck within {self._publish_timeout}s"
            elif (failure := future.exception()) is not None:
                outcome.error = f"{type(failure).__name__}: {failure}"
                # The server answered about this message; a dropped connection says nothing about it.
                outcome.own_fault = isinstance(
                    failure, nats.js.errors.APIError | nats.js.errors.NoStreamResponseError
                )
        return outcomes

    async def _record(
        self, session: AsyncSession, rows: Sequence[Row[Any]], outcomes: list[_Outcome]
    ) -> None:
        o = self._outbox
        acked = [
            {"b_seq": r.seq, "b_at": out.acked_at}
            for r, out in zip(rows, outcomes, strict=True)
            if out.acked_at
        ]
        if acked:
            await session.execute(
                update(o).where(o.c.seq == bindparam("b_seq")).values(published_at=bindparam("b_at")),
                acked,
                execution_options={"synchronize_session": False},
            )
        failed = [(r, out) for r, out in zip(rows, outcomes, strict=True) if out.acked_at is None]
        if not failed:
            return
        now = utcnow()
        park = [
            (r, out)
            for r, out in failed
            if self._dead_letter is not None
            and (out.permanent or (out.own_fault and r.attempts + 1 >= self._max_attempts))
        ]
        parked = {r.seq for r, _ in park}
        retry = [{"b_seq": r.seq, "b_error": out.error} for r, out in failed if r.seq not in parked]
        if retry:
            self.failed += len(retry)
            await session.execute(
                update(o)
                .where(o.c.seq == bindparam("b_seq"))
                .values(attempts=o.c.attempts + 1, last_error=bindparam("b_error")),
                retry,
                execution_options={"synchronize_session": False},
            )
            log.warning(
                "outbox rows not published; retrying",
                extra={"rows": len(retry), "error": retry[0]["b_error"]},
            )
        if park and self._dead_letter is not None:
            await session.execute(
                self._dead_letter.insert(),
                [
                    {
                        "kind": "outgoing",
                        "consumer": None,
                        "subject": r.subject,
                        "event_id": r.event_id,
                        "payload": r.payload,
                        "error": out.error or "",
                        "attempts": r.attempts + 1,
                        "first_seen_at": r.created_at,
                        "parked_at": now,
                    }
                    for r, out in park
                ],
            )
            await session.execute(delete(o).where(o.c.seq.in_(parked)))
            self.parked += len(park)
            for r, out in park:
                log.error(
                    "outbox event parked as dead letter",
                    extra={"event_id": str(r.event_id), "subject": r.subject, "error": out.error},
                )
