"""Consumers on real NATS JetStream: a redelivered event is applied once (inbox), and the app's workers run."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest
from management_factories import ACCEPTOR, GATEWAY_SOURCE, auth, count, submitted
from nats.aio.client import Client as NatsClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.config import NatsSettings
from yiwang_common.db import session_scope
from yiwang_common.events import ConsumerRunner, make_event, stream_name
from yiwang_common.events.outbox import serialize
from yiwang_common.testing import fresh_streams
from yiwang_management.case.handlers import CaseEventHandlers
from yiwang_management.case.models import Case
from yiwang_management.config import Settings
from yiwang_management.db import messaging
from yiwang_management.main import create_app


@pytest.fixture
async def nc(nc: NatsClient) -> NatsClient:
    # The plugin's connection, on empty streams of the producers this suite reads and writes.
    await fresh_streams(nc.jetstream(), "gateway", "management")
    return nc


async def wait_for(predicate: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


class TestInboxReplay:
    async def test_same_event_delivered_twice_registers_one_case(
        self,
        nc: NatsClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
        item: str,
    ) -> None:
        data = submitted()
        envelope = make_event(data, source=GATEWAY_SOURCE, subject=str(data.application_id))
        js = nc.jetstream()
        # Two different Nats-Msg-Ids get past JetStream's own dedupe, so only our inbox can stop the replay.
        for msg_id in ("first", "second"):
            await js.publish(envelope.nats_subject, serialize(envelope), headers={"Nats-Msg-Id": msg_id})
        gateway_subscription = handlers.subscriptions()[0]
        runner = ConsumerRunner(
            js, sessionmaker, messaging.inbox, gateway_subscription, NatsSettings(), fetch_timeout=0.2
        )
        task = asyncio.create_task(runner.run())
        try:
            await wait_for(lambda: _processed(runner, 2))
        finally:
            runner.stop()
            await task
        assert await count(sessionmaker, Case) == 1
        assert await count(sessionmaker, messaging.inbox) == 1
        assert await count(sessionmaker, messaging.outbox) == 1


async def _processed(runner: ConsumerRunner, n: int) -> bool:
    return runner.processed >= n


class TestWorkers:
    async def test_application_on_the_bus_becomes_a_case_and_acceptance_is_published(
        self, nc: NatsClient, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], item: str
    ) -> None:
        app = create_app(settings.model_copy(update={"run_workers": True}))
        data = submitted()
        envelope = make_event(data, source=GATEWAY_SOURCE, subject=str(data.application_id))
        js = nc.jetstream()
        accepted = await js.pull_subscribe(
            "yiwang.management.case.accepted.v1", stream=stream_name("management")
        )
        await js.publish(
            envelope.nats_subject, serialize(envelope), headers={"Nats-Msg-Id": str(envelope.id)}
        )
        async with app.router.lifespan_context(app):
            await wait_for(lambda: _case_exists(sessionmaker))
            async with session_scope(sessionmaker) as session:
                case_no = (await session.execute(select(Case.case_no))).scalar_one()
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as client:
                response = await client.post(f"/cases/{case_no}/accept", json={}, headers=auth(ACCEPTOR))
            assert response.status_code == 200
            (msg,) = await accepted.fetch(1, timeout=10)
            await msg.ack()
        assert msg.header is not None and msg.header["Nats-Msg-Id"]
        assert case_no.encode() in msg.data


async def _case_exists(sessionmaker: async_sessionmaker[AsyncSession]) -> bool:
    return await count(sessionmaker, Case) == 1
