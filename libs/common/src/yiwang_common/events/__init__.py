"""Events on NATS JetStream: envelope, streams, transactional outbox, idempotent consumers."""

from __future__ import annotations

from yiwang_common.events.consumer import ConsumerRunner, Handler, RetryLater, Subscription
from yiwang_common.events.envelope import EventData, EventEnvelope, make_event
from yiwang_common.events.outbox import MessagingTables, enqueue, messaging_tables, outbox_row
from yiwang_common.events.relay import OutboxRelay
from yiwang_common.events.streams import ensure_stream, stream_name, stream_subjects

__all__ = [
    "ConsumerRunner",
    "EventData",
    "EventEnvelope",
    "Handler",
    "MessagingTables",
    "OutboxRelay",
    "RetryLater",
    "Subscription",
    "enqueue",
    "ensure_stream",
    "make_event",
    "messaging_tables",
    "outbox_row",
    "stream_name",
    "stream_subjects",
]
