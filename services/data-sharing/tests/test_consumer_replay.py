"""The same event delivered twice through real NATS JetStream and the consumer runner takes effect once."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from nats.aio.client import Client as NatsClient
from nats.js.api import DeliverPolicy
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.events import ConsumerRunner, Subscription, ensure_stream, stream_name
from yiwang_common.events.outbox import serialize
from yiwang_datasharing.case_record.models import CaseRecord, ExchangeLog
from yiwang_datasharing.config import Settings
from yiwang_datasharing.db import messaging
from yiwang_datasharing.licence.service import LicenceSigner
from yiwang_datasharing.main import event_source
from yiwang_datasharing.subscriptions import build_subscriptions


def management_subscription(settings: Settings, durable: str) -> Subscription:
    signer = LicenceSigner.from_settings(settings)
    sub = next(s for s in build_subscriptions(event_source(settings), signer) if s.source == "management")
    return Subscription(durable=durable, source=sub.source, handlers=sub.handlers)


class TestReplayThroughNats:
    async def test_duplicate_delivery_is_applied_once(
        self,
        nc: NatsClient,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        make_envelope: Any,
        story: Any,
        rows: Any,
    ) -> None:
        js = nc.jetstream()
        await ensure_stream(js, "management", settings.nats)
        sub = management_subscription(settings, f"datasharing__management_test_{uuid.uuid4().hex[:8]}")
        runner = ConsumerRunner(js, sessionmaker, messaging.inbox, sub, settings.nats)
        # Only what this test publishes: the stream may hold earlier runs' events.
        config = dataclasses.replace(runner.consumer_config(), deliver_policy=DeliverPolicy.NEW)
        await js.add_consumer(stream_name("management"), config=config)
        env = make_envelope(story.registered(), 0)
        # No Nats-Msg-Id: JetStream keeps both copies, so only the inbox can drop the second.
        for _ in range(2):
            await js.publish(env.nats_subject, serialize(env))
        psub = await js.pull_subscribe_bind(durable=sub.durable, stream=stream_name("management"))
        msgs = await psub.fetch(2, timeout=5)
        assert len(msgs) == 2
        await runner.handle_batch(msgs[:1])
        await runner.handle_batch(msgs[1:])
        assert await rows.count(ExchangeLog, ExchangeLog.event_id == env.id) == 1
        assert await rows.count(messaging.inbox, messaging.inbox.c.event_id == env.id) == 1
        async with sessionmaker() as session:
            status = (
                await session.execute(select(CaseRecord.status).where(CaseRecord.case_no == story.case_no))
            ).scalar_one()
        assert status == "pending_acceptance"
        await js.delete_consumer(stream_name("management"), sub.durable)
