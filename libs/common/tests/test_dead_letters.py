"""Poison events never block: what cannot be published or handled is parked, visible and replayable.

Real PostgreSQL and a real JetStream server; the only thing made to fail is the event itself.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from common_samples import licence_event
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.config import NatsSettings
from yiwang_common.contracts.datasharing import LicenceRegistered
from yiwang_common.events import (
    ConsumerRunner,
    EventEnvelope,
    MessagingTables,
    OutboxRelay,
    Subscription,
    enqueue,
    ensure_stream,
)
from yiwang_common.events.consumer import _park_statement
from yiwang_common.events.dead_letters import DeadLetters
from yiwang_common.events.outbox import serialize

tables: MessagingTables
things: Table


@pytest.fixture(autouse=True)
def _schema(schema: tuple[Table, MessagingTables]) -> None:
    global things, tables
    things, tables = schema


async def dead_letters(sessionmaker: async_sessionmaker[AsyncSession]) -> list[dict[str, object]]:
    async with sessionmaker() as s:
        rows = await s.execute(select(tables.dead_letter).order_by(tables.dead_letter.c.id))
        return [dict(r._mapping) for r in rows.all()]


async def outbox_rows(sessionmaker: async_sessionmaker[AsyncSession]) -> list[dict[str, object]]:
    async with sessionmaker() as s:
        rows = await s.execute(select(tables.outbox).order_by(tables.outbox.c.seq))
        return [dict(r._mapping) for r in rows.all()]


def oversized_event(size: int) -> EventEnvelope:
    event = licence_event()
    event.data["licence"]["holder_name"] = "张" * (size // 3 + 1)  # three UTF-8 bytes each
    return event


async def _park_alone(
    sessionmaker: async_sessionmaker[AsyncSession], statement: Any, values: dict[str, object]
) -> int | None:
    async with sessionmaker() as session, session.begin():
        return await session.scalar(statement, values)


def parking_runner(
    js: JetStreamContext,
    sessionmaker: async_sessionmaker[AsyncSession],
    handler: Callable[[AsyncSession, EventEnvelope, LicenceRegistered], Awaitable[None]],
    settings: NatsSettings,
    *,
    fetch_timeout: float = 1.0,
) -> tuple[ConsumerRunner, Subscription]:
    """A runner of a fresh durable on the licence events, parking into the dead-letter table."""
    sub = Subscription(
        durable=f"test__{uuid.uuid4().hex[:8]}", source="datasharing", handlers={LicenceRegistered: handler}
    )
    runner = ConsumerRunner(
        js,
        sessionmaker,
        tables.inbox,
        sub,
        settings,
        dead_letter=tables.dead_letter,
        fetch_timeout=fetch_timeout,
    )
    return runner, sub


class TestRelayParking:
    async def test_oversized_event_is_parked_at_once_and_later_events_flow(
        self, sessionmaker: async_sessionmaker[AsyncSession], nc: NatsClient, clean_stream: str
    ) -> None:
        big = oversized_event(nc.max_payload)
        later = [licence_event() for _ in range(3)]
        for event in [big, *later]:
            async with sessionmaker() as s, s.begin():
                await enqueue(s, tables.outbox, event)
        js = nc.jetstream()
        relay = OutboxRelay(
            sessionmaker, tables.outbox, js, dead_letter=tables.dead_letter, max_payload=nc.max_payload
        )
        assert await relay.publish_pending() == 3
        assert (await js.stream_info(clean_stream)).state.messages == 3
        parked = await dead_letters(sessionmaker)
        assert [(d["kind"], d["event_id"], d["attempts"]) for d in parked] == [("outgoing", big.id, 1)]
        assert "max_payload" in str(parked[0]["error"])
        assert parked[0]["payload"] == serialize(big)
        # It left the outbox: nothing waits behind it, before or after a restart.
        assert {r["event_id"] for r in await outbox_rows(sessionmaker)} == {e.id for e in later}
        assert await relay.publish_pending() == 0

    async def test_unpublishable_event_is_parked_after_bounded_retries_while_others_flow(
        self, sessionmaker: async_sessionmaker[AsyncSession], nc: NatsClient, clean_stream: str
    ) -> None:
        stray = licence_event()
        # No stream captures this subject: the server answers "no responders" every time.
        stray.type = "cn.yiwang.nowhere.licence.registered.v1"
        async with sessionmaker() as s, s.begin():
            await enqueue(s, tables.outbox, stray)
        js = nc.jetstream()
        relay = OutboxRelay(
            sessionmaker, tables.outbox, js, dead_letter=tables.dead_letter, max_attempts=3, publish_timeout=2
        )
        published = 0
        for round_no in range(3):
            event = licence_event()
            async with sessionmaker() as s, s.begin():
                await enqueue(s, tables.outbox, event)
            published += await relay.publish_pending()
            assert published == round_no + 1, "a later event waited behind the unpublishable one"
        assert (await js.stream_info(clean_stream)).state.messages == 3
        parked = await dead_letters(sessionmaker)
        assert [(d["kind"], d["event_id"], d["attempts"]) for d in parked] == [("outgoing", stray.id, 3)]
        assert stray.id not in {r["event_id"] for r in await outbox_rows(sessionmaker)}

    async def test_published_at_is_the_pubacks_time_and_failures_are_counted(
        self, sessionmaker: async_sessionmaker[AsyncSession], nc: NatsClient, clean_stream: str
    ) -> None:
        js = nc.jetstream()
        await js.delete_stream(clean_stream)
        async with sessionmaker() as s, s.begin():
            await enqueue(s, tables.outbox, licence_event(), licence_event())
        relay = OutboxRelay(
            sessionmaker, tables.outbox, js, dead_letter=tables.dead_letter, publish_timeout=1
        )
        for _ in range(2):
            assert await relay.publish_pending() == 0
        rows = await outbox_rows(sessionmaker)
        assert [r["attempts"] for r in rows] == [2, 2]
        assert all(r["last_error"] and r["published_at"] is None for r in rows)
        await ensure_stream(js, "datasharing", NatsSettings())
        before = datetime.now(UTC)
        assert await relay.publish_pending() == 2
        after = datetime.now(UTC)
        for row in await outbox_rows(sessionmaker):
            published_at = row["published_at"]
            assert isinstance(published_at, datetime)
            assert row["created_at"] <= before <= published_at <= after  # type: ignore[operator]
        assert await dead_letters(sessionmaker) == []


class TestConsumerParking:
    async def test_handler_failing_past_max_deliver_is_parked_and_replayed(
        self, sessionmaker: async_sessionmaker[AsyncSession], nc: NatsClient, clean_stream: str
    ) -> None:
        broken = True
        handled: list[uuid.UUID] = []
        bad, good = licence_event(), licence_event()

        async def handler(session: AsyncSession, envelope: EventEnvelope, data: LicenceRegistered) -> None:
            if broken and envelope.id == bad.id:
                raise RuntimeError("下游规则暂不可用")
            await session.execute(things.insert().values(name=str(envelope.id)[:50]))
            handled.append(envelope.id)

        js = nc.jetstream()
        for event in (bad, good):
            await js.publish(event.nats_subject, serialize(event), headers={"Nats-Msg-Id": str(event.id)})
        durable = f"test__{uuid.uuid4().hex[:8]}"
        sub = Subscription(durable=durable, source="datasharing", handlers={LicenceRegistered: handler})
        settings = NatsSettings(max_deliver=2)
        runner = ConsumerRunner(
            js, sessionmaker, tables.inbox, sub, settings, dead_letter=tables.dead_letter, fetch_timeout=0.3
        )
        task = asyncio.create_task(runner.run())
        try:
            for _ in range(100):
                if runner.parked:
                    info = await js.consumer_info(clean_stream, durable)
                    if info.num_ack_pending == 0 and info.num_pending == 0:
                        break
                await asyncio.sleep(0.1)
        finally:
            runner.stop()
            task.cancel()
        assert handled == [good.id]
        # Let go on the server only once parked: nothing pending, nothing waiting for redelivery.
        assert info.num_ack_pending == 0 and info.num_pending == 0
        parked = await dead_letters(sessionmaker)
        assert [(d["kind"], d["consumer"], d["event_id"], d["attempts"]) for d in parked] == [
            ("incoming", durable, bad.id, 2)
        ]
        assert "下游规则暂不可用" in str(parked[0]["error"])

        store = DeadLetters(sessionmaker, tables, [sub])
        assert await store.counts() == {"outgoing": 0, "incoming": 1}
        failed = await store.replay(int(parked[0]["id"]))  # type: ignore[call-overload]
        assert failed.status == "failed" and failed.error and "下游规则暂不可用" in failed.error
        broken = False
        assert (await store.replay(int(parked[0]["id"]))).status == "replayed"  # type: ignore[call-overload]
        assert (await store.replay(int(parked[0]["id"]))).status == "already_replayed"  # type: ignore[call-overload]
        assert handled == [good.id, bad.id]
        assert await store.counts() == {"outgoing": 0, "incoming": 0}
        async with sessionmaker() as s:
            assert await s.scalar(select(func.count()).select_from(things)) == 2
            assert bad.id in set((await s.execute(select(tables.inbox.c.event_id))).scalars())

    async def test_a_second_copy_of_a_parked_message_is_let_go_not_parked_again(
        self, sessionmaker: async_sessionmaker[AsyncSession], nc: NatsClient, clean_stream: str
    ) -> None:
        # JetStream redelivers a message whose ack wait ran out while the first copy was still being
        # handled; both copies fail and reach max_deliver, and the event must be parked once.
        async def handler(session: AsyncSession, envelope: EventEnvelope, data: LicenceRegistered) -> None:
            raise RuntimeError("下游规则暂不可用")

        js = nc.jetstream()
        bad = licence_event()
        await js.publish(bad.nats_subject, serialize(bad), headers={"Nats-Msg-Id": str(bad.id)})
        runner, sub = parking_runner(
            js, sessionmaker, handler, NatsSettings(max_deliver=1, ack_wait_seconds=1)
        )
        await js.add_consumer(clean_stream, config=runner.consumer_config())
        psub = await js.pull_subscribe_bind(durable=sub.durable, stream=clean_stream)
        (first,) = await psub.fetch(1, timeout=5)
        # Not acked within its ack wait: the server sends the message again.
        (second,) = await psub.fetch(1, timeout=5)
        assert second.metadata.num_delivered == 2 and second.data == first.data
        await runner.handle_batch([first])
        await runner.handle_batch([second])
        parked = await dead_letters(sessionmaker)
        assert [(d["event_id"], d["attempts"]) for d in parked] == [(bad.id, 1)]
        assert runner.parked == 1
        # The one dead letter is what an operator replays (it still fails here: the handler is broken).
        replay = await DeadLetters(sessionmaker, tables, [sub]).replay(int(str(parked[0]["id"])))
        assert replay.status == "failed"

    async def test_two_replicas_parking_one_message_at_once_write_one_row(
        self, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        # Each replica's park runs in its own transaction; the second runs while the first has not
        # committed, so a read before the insert cannot see the first's row.
        event_id = uuid.uuid4()
        now = datetime.now(UTC)
        values = {
            "kind": "incoming",
            "consumer": "test__replicas",
            "subject": "yiwang.datasharing.licence.registered.v1",
            "event_id": event_id,
            "payload": b"{}",
            "error": "RuntimeError: 下游规则暂不可用",
            "attempts": 5,
            "first_seen_at": now,
            "parked_at": now,
        }
        statement = _park_statement(tables.dead_letter, event_id)
        async with sessionmaker() as first, first.begin():
            assert await first.scalar(statement, values) is not None
            second = asyncio.create_task(_park_alone(sessionmaker, statement, values))
            await asyncio.sleep(0.3)
            assert not second.done()  # waiting on the first's index entry
        assert await second is None
        assert [(d["event_id"], d["attempts"]) for d in await dead_letters(sessionmaker)] == [(event_id, 5)]

    async def test_unparseable_message_is_parked(
        self, sessionmaker: async_sessionmaker[AsyncSession], nc: NatsClient, clean_stream: str
    ) -> None:
        seen: list[uuid.UUID] = []

        async def handler(session: AsyncSession, envelope: EventEnvelope, data: LicenceRegistered) -> None:
            seen.append(envelope.id)

        js = nc.jetstream()
        poison_id = uuid.uuid4()
        await js.publish(
            "yiwang.datasharing.licence.registered.v1", b"{not json", headers={"Nats-Msg-Id": str(poison_id)}
        )
        good = licence_event()
        await js.publish(good.nats_subject, serialize(good))
        runner, sub = parking_runner(js, sessionmaker, handler, NatsSettings(), fetch_timeout=0.3)
        task = asyncio.create_task(runner.run())
        try:
            for _ in range(50):
                if seen and runner.parked:
                    break
                await asyncio.sleep(0.1)
        finally:
            runner.stop()
            task.cancel()
        assert seen == [good.id]
        parked = await dead_letters(sessionmaker)
        assert [(d["kind"], d["event_id"], d["payload"]) for d in parked] == [
            ("incoming", poison_id, b"{not json")
        ]
        replay = await DeadLetters(sessionmaker, tables, [sub]).replay(int(parked[0]["id"]))  # type: ignore[call-overload]
        assert replay.status == "failed"


class TestReplayOutgoing:
    async def test_replayed_outgoing_event_is_published_once(
        self, sessionmaker: async_sessionmaker[AsyncSession], nc: NatsClient, clean_stream: str
    ) -> None:
        stray = licence_event()
        js = nc.jetstream()
        await js.delete_stream(clean_stream)
        async with sessionmaker() as s, s.begin():
            await enqueue(s, tables.outbox, stray)
        relay = OutboxRelay(
            sessionmaker, tables.outbox, js, dead_letter=tables.dead_letter, max_attempts=1, publish_timeout=1
        )
        assert await relay.publish_pending() == 0
        parked = await dead_letters(sessionmaker)
        assert len(parked) == 1
        await ensure_stream(js, "datasharing", NatsSettings())  # the cause is fixed
        store = DeadLetters(sessionmaker, tables)
        dead_letter_id = int(parked[0]["id"])  # type: ignore[call-overload]
        assert (await store.replay(dead_letter_id)).status == "replayed"
        assert (await store.replay(dead_letter_id)).status == "already_replayed"
        assert await relay.publish_pending() == 1
        msg = await js.get_last_msg(clean_stream, stray.nats_subject)
        assert msg.headers is not None and msg.headers["Nats-Msg-Id"] == str(stray.id)
        assert (await js.stream_info(clean_stream)).state.messages == 1


class TestKeepAlive:
    async def test_a_long_handler_is_kept_alive_past_ack_wait(
        self, sessionmaker: async_sessionmaker[AsyncSession], nc: NatsClient, clean_stream: str
    ) -> None:
        calls: list[uuid.UUID] = []

        async def slow(session: AsyncSession, envelope: EventEnvelope, data: LicenceRegistered) -> None:
            calls.append(envelope.id)
            await asyncio.sleep(3.5)  # well past the 1 s ack_wait

        js = nc.jetstream()
        event = licence_event()
        await js.publish(event.nats_subject, serialize(event), headers={"Nats-Msg-Id": str(event.id)})
        durable = f"test__{uuid.uuid4().hex[:8]}"
        sub = Subscription(durable=durable, source="datasharing", handlers={LicenceRegistered: slow})
        runner = ConsumerRunner(
            js, sessionmaker, tables.inbox, sub, NatsSettings(ack_wait_seconds=1), fetch_timeout=0.3
        )
        task = asyncio.create_task(runner.run())
        try:
            for _ in range(100):
                if runner.processed:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.5)  # a redelivery, had there been one, would be fetched by now
            info = await js.consumer_info(clean_stream, durable)
        finally:
            runner.stop()
            task.cancel()
        assert calls == [event.id]
        assert info.num_redelivered == 0 and info.num_ack_pending == 0
