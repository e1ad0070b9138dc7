"""Dispatches from NATS JetStream, for a department system that runs inside the platform's network.

A system outside gets no bus credentials and pulls over REST (:class:`~yiwang_sdk.DispatchWorker`).
One inside may read ``yiwang.management.joint_part.dispatched.v1`` from the management stream with
a durable pull consumer of its own: the consumer remembers its position while the system is down,
and a part whose handler failed is redelivered. The subject carries every department's parts, so
this reader keeps only those addressed to its ``system_id`` — the REST path is the one that is
scoped by credentials (ADR 0112); callbacks go over REST either way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import nats.errors
from nats.js import JetStreamContext

from yiwang_contracts.envelope import EventEnvelope
from yiwang_contracts.management import JointPartDispatched

#: The producer's stream (``YIWANG_<SERVICE>``) and the subject of dispatched parts.
STREAM = "YIWANG_MANAGEMENT"
SUBJECT = JointPartDispatched.subject

BusHandler = Callable[[JointPartDispatched], Awaitable[None]]


class BusDispatches:
    """A durable pull consumer of dispatched parts for one system (name: ``<durable>``)."""

    def __init__(
        self, js: JetStreamContext, *, system_id: str, durable: str | None = None, batch: int = 10
    ) -> None:
        self.js = js
        self.system_id = system_id
        self.durable = durable or f"plugin_{system_id.replace('-', '_')}"
        self.batch = batch
        self._sub: Any = None

    async def fetch(self, handler: BusHandler, *, timeout: float = 1.0) -> int:
        """Handle what is waiting: each of this system's parts once its handler returns (then ack).

        A handler that raises leaves its message negatively acknowledged, for redelivery, and the
        error propagates. Other systems' parts are acknowledged unread.

        Returns:
            How many of this system's parts were handled.
        """
        if self._sub is None:
            self._sub = await self.js.pull_subscribe(SUBJECT, durable=self.durable, stream=STREAM)
        try:
            messages = await self._sub.fetch(self.batch, timeout=timeout)
        except nats.errors.TimeoutError:
            return 0
        handled = 0
        for message in messages:
            part = JointPartDispatched.model_validate(EventEnvelope.model_validate_json(message.data).data)
            if part.system_id == self.system_id:
                try:
                    await handler(part)
                except Exception:
                    await message.nak()
                    raise
                handled += 1
            await message.ack()
        return handled

    async def close(self) -> None:
        """Stop reading; the durable consumer keeps its position on the server."""
        if self._sub is not None:
            await self._sub.unsubscribe()
            self._sub = None
