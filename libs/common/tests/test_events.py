"""Outbox relay and idempotent consumer against real PostgreSQL and NATS JetStream."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from common_samples import LICENCE, licence_event
from nats.aio.client import Client as NatsClient
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.config import NatsSettings
from yiwang_common.contracts.datasharing import LicenceRegistered
from yiwang_common.events import (
    ConsumerRunner,
    EventEnvelope,
    MessagingTables,
    OutboxRelay,
    RetryLater,
    Subscription,
    enqueue,
    ensure_stream,
    outbox_row,
)
from yiwang_common.events.consumer import (
    apply_events,
    filter_subject,
    parse_message,
    supports_filter_subjects,
)
from yiwang_common.events.outbox import OUTBOX_NOTIFY_KEY, serialize

tables: MessagingTables
things: Table


@pytest.fixture(autouse=True)
def _schema(schema: tuple[Table, MessagingTables]) -> None:
    global things, tables
    things, tables = schema


class TestOutboxRelay:
    async def test_event_commits_with_state_and_is_published_once(
        self, sessionmaker: async_sessionmaker[AsyncSession], nc: NatsClient, clean_stream: str
    ) -> None:
        event = licence_event()
        async with sessionmaker() as s, s.begin():
            await s.execute(things.insert().values(id=1, name="a"))
            await enqueue(s, tables.outbox, event)
        js = nc.jetstream()
        relay = OutboxRelay(sessionmaker, tables.outbox, js)
        assert await relay.publish_pending() == 1
        assert await relay.publish_pending() == 0
        info = await js.stream_info(clean_stream)
        assert info.state.messages == 1
        msg = await js.get_last_msg(clean_stream, "yiwang.datasharing.licence.registered.v1")
        assert msg.headers is not None and msg.headers["Nats-Msg-Id"] == str(event.id)

    async def test_rolled_back_state_change_publishes_nothing(
        self, sessionmaker: async_sessionmaker[AsyncSession], nc: NatsClient, clean_stream: str
    ) -> None:
        async def failing_unit_of_work() -> None:
            async with sessionmaker() as s, s.begin():
                await enqueue(s, tables.outbox, licence_event())
                raise RuntimeError("business rule failed")

        with pytest.raises(RuntimeError):
            await failing_unit_of_work()
        relay = OutboxRelay(sessionmaker, tables.outbox, nc.jetstream())
        assert await relay.publish_pending() == 0

    async def test_resend_after_crash_is_deduplicated_by_msg_id(
        self, sessionmaker: async_sessionmaker[AsyncSession], nc: NatsClient, clean_stream: str
    ) -> None:
        async with sessionmaker() as s, s.begin():
            await enqueue(s, tables.outbox, licence_event())
        js = nc.jetstream()
        relay = OutboxRelay(sessionmaker, tables.outbox, js)
        assert await relay.publish_pending() == 1
        # Simulate a crash after publish but before the mark: the row is unpublished again.
        async with sessionmaker() as s, s.begin():
            await s.execute(tables.outbox.update().values(published_at=None))
        assert await relay.publish_pending() == 1
        assert (await js.stream_info(clean_stream)).state.messages == 1

    async def test_failed_publish_leaves_the_rows_unpublished(
        self, sessionmaker: async_sessionmaker[AsyncSession], nc: NatsClient, clean_stream: str
    ) -> None:
        async with sessionmaker() as s, s.begin():
            await enqueue(s, tables.outbox, licence_event())
        js = nc.jetstream()
        await js.delete_stream(clean_stream)  # nothing captures the subject: no PubAck comes back
        relay = OutboxRelay(sessionmaker, tables.outbox, js, publish_timeout=1.0)
        assert await relay.publish_pending() == 0  # no responders or a time-out, by server version
        async with sessionmaker() as s:
            row = (await s.execute(select(tables.outbox))).one()
        assert row.published_at is None
        # The failure is counted and explained, not swallowed.
        assert row.attempts == 1 and row.last_error
        await ensure_stream(js, "datasharing", NatsSettings())
        assert await relay.publish_pending() == 1
        assert (await js.stream_info(clean_stream)).state.messages == 1

    async def test_events_go_out_in_the_order_they_were_committed(
        self, sessionmaker: async_sessionmaker[AsyncSession], nc: NatsClient, clean_stream: str
    ) -> None:
        events = [licence_event() for _ in range(5)]
        for event in events[:3]:
            async with sessionmaker() as s, s.begin():
                await enqueue(s, tables.outbox, event)
        async with sessionmaker() as s, s.begin():
            await enqueue(s, tables.outbox, *events[3:])
        js = nc.jetstream()
        assert await OutboxRelay(sessionmaker, tables.outbox, js).publish_pending() == 5
        sent = [
            (await js.get_msg(clean_stream, seq)).headers["Nats-Msg-Id"]  # type: ignore[index]
            for seq in range(1, 6)
        ]
        assert sent == [str(e.id) for e in events]

    async def test_outbox_row_in_the_callers_statement_commits_with_it_and_wakes_the_relay(
        self, sessionmaker: async_sessionmaker[AsyncSession], nc: NatsClient, clean_stream: str
    ) -> None:
        # A hot path carries the outbox row in its own last statement (ADR 0120).
        event, woken = licence_event(), []
        async with sessionmaker() as s, s.begin():
            s.sync_session.info[OUTBOX_NOTIFY_KEY] = lambda: woken.append(True)
            await s.execute(things.insert().values(id=1, name="a"))
            await s.execute(tables.outbox.insert().values(outbox_row(s, event)))
        assert woken == [True]
        async with sessionmaker() as s:
            row = (await s.execute(select(tables.outbox))).one()
        assert row.event_id == event.id and row.payload == serialize(event) and row.attempts == 0
        js = nc.jetstream()
        assert await OutboxRelay(sessionmaker, tables.outbox, js).publish_pending() == 1
        msg = await js.get_last_msg(clean_stream, "yiwang.datasharing.licence.registered.v1")
        assert msg.headers is not None and msg.headers["Nats-Msg-Id"] == str(event.id)

    async def test_outbox_row_of_a_rolled_back_unit_of_work_is_gone_and_wakes_nothing(
        self, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        woken: list[bool] = []

        async def failing_unit_of_work() -> None:
            async with sessionmaker() as s, s.begin():
                s.sync_session.info[OUTBOX_NOTIFY_KEY] = lambda: woken.append(True)
                await s.execute(tables.outbox.insert().values(outbox_row(s, licence_event())))
                raise RuntimeError("business rule failed")

        with pytest.raises(RuntimeError):
            await failing_unit_of_work()
        async with sessionmaker() as s:
            assert (await s.execute(select(func.count()).select_from(tables.outbox))).scalar_one() == 0
        assert woken == []


class TestConsumer:
    async def test_redelivered_event_is_applied_once(
        self, sessionmaker: async_sessionmaker[AsyncSession], nc: NatsClient, clean_stream: str
    ) -> None:
        applied: list[str] = []

        async def handler(session: AsyncSession, envelope: EventEnvelope, data: LicenceRegistered) -> None:
            applied.append(data.licence.identifier)
            await session.execute(things.insert().values(name=data.licence.licence_no))

        event = licence_event()
        js = nc.jetstream()
        for _ in range(2):  # the second publish has a new msg id: a duplicate JetStream cannot see
            await js.publish(
                event.nats_subject,
                event.model_dump_json().encode(),
                headers={"Nats-Msg-Id": uuid.uuid4().hex},
            )
        sub = Subscription(
            durable=f"test__{uuid.uuid4().hex[:8]}",
            source="datasharing",
            handlers={LicenceRegistered: handler},
        )
        runner = ConsumerRunner(js, sessionmaker, tables.inbox, sub, NatsSettings(), fetch_timeout=0.5)
        task = asyncio.create_task(runner.run())
        for _ in range(50):
            if runner.processed >= 2:
                break
            await asyncio.sleep(0.1)
        runner.stop()
        task.cancel()
        assert applied == [LICENCE["identifier"]]
        async with sessionmaker() as s:
            assert await s.scalar(select(func.count()).select_from(things)) == 1
            assert await s.scalar(select(func.count()).select_from(tables.inbox)) == 1

    async def test_poison_message_is_terminated_and_others_proceed(
        self, sessionmaker: async_sessionmaker[AsyncSession], nc: NatsClient, clean_stream: str
    ) -> None:
        seen: list[str] = []

        async def handler(session: AsyncSession, envelope: EventEnvelope, data: LicenceRegistered) -> None:
            seen.append(str(envelope.id))

        js = nc.jetstream()
        await js.publish("yiwang.datasharing.licence.registered.v1", b"{not json")
        good = licence_event()
        await js.publish(good.nats_subject, good.model_dump_json().encode())
        sub = Subscription(
            durable=f"test__{uuid.uuid4().hex[:8]}",
            source="datasharing",
            handlers={LicenceRegistered: handler},
        )
        runner = ConsumerRunner(js, sessionmaker, tables.inbox, sub, NatsSettings(), fetch_timeout=0.5)
        task = asyncio.create_task(runner.run())
        for _ in range(50):
            if seen:
                break
            await asyncio.sleep(0.1)
        runner.stop()
        task.cancel()
        assert seen == [str(good.id)]


class TestInboxClaim:
    async def test_a_batch_runs_only_its_unseen_events_once_each(
        self, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        # One prebuilt statement claims batches of any size: replays, repeats inside the batch and
        # batches of other lengths still run each event exactly once.
        applied: list[uuid.UUID] = []

        async def handler(session: AsyncSession, envelope: EventEnvelope, data: LicenceRegistered) -> None:
            applied.append(envelope.id)

        routes = {LicenceRegistered.subject: (LicenceRegistered, handler)}
        durable = f"test__{uuid.uuid4().hex[:8]}"
        events = [licence_event() for _ in range(4)]

        def parsed(*batch: EventEnvelope) -> list[Any]:
            return [parse_message(e.nats_subject, e.model_dump_json().encode(), routes) for e in batch]

        async with sessionmaker() as s, s.begin():
            assert await apply_events(s, tables.inbox, durable, parsed(events[0])) == 1
        async with sessionmaker() as s, s.begin():
            batch = parsed(events[0], events[1], events[1], events[2])
            assert await apply_events(s, tables.inbox, durable, batch) == 2
        async with sessionmaker() as s, s.begin():
            assert await apply_events(s, tables.inbox, durable, parsed(*events)) == 1
        assert applied == [events[0].id, events[1].id, events[2].id, events[3].id]
        async with sessionmaker() as s:
            claimed = set((await s.execute(select(tables.inbox.c.event_id))).scalars())
        assert {e.id for e in events} <= claimed


class TestBatchIsolation:
    async def test_one_failing_event_does_not_hold_back_the_batch(
        self, sessionmaker: async_sessionmaker[AsyncSession], nc: NatsClient, clean_stream: str
    ) -> None:
        applied: list[str] = []
        bad = licence_event()

        async def handler(session: AsyncSession, envelope: EventEnvelope, data: LicenceRegistered) -> None:
            if envelope.id == bad.id:
                raise RetryLater("predecessor not seen yet")
            await session.execute(things.insert().values(name=str(envelope.id)[:50]))
            applied.append(str(envelope.id))

        js = nc.jetstream()
        goods = [licence_event() for _ in range(5)]
        for event in [goods[0], goods[1], bad, *goods[2:]]:
            await js.publish(
                event.nats_subject, event.model_dump_json().encode(), headers={"Nats-Msg-Id": str(event.id)}
            )
        sub = Subscription(
            durable=f"test__{uuid.uuid4().hex[:8]}",
            source="datasharing",
            handlers={LicenceRegistered: handler},
        )
        runner = ConsumerRunner(js, sessionmaker, tables.inbox, sub, NatsSettings(), fetch_timeout=0.5)
        task = asyncio.create_task(runner.run())
        for _ in range(50):
            if runner.processed >= 5:
                break
            await asyncio.sleep(0.1)
        runner.stop()
        task.cancel()
        # The batch attempt that met the failure rolled back; what stayed is each good event once.
        async with sessionmaker() as s:
            names = sorted((await s.execute(select(things.c.name))).scalars())
            inbox_ids = set((await s.execute(select(tables.inbox.c.event_id))).scalars())
        assert names == sorted(str(e.id)[:50] for e in goods)
        assert len(applied) >= 5
        # The failed event left no inbox row behind: it will be handled when redelivered.
        assert bad.id not in inbox_ids and {e.id for e in goods} <= inbox_ids

    async def test_ensure_stream_is_idempotent_and_updates(self, nc: NatsClient, clean_stream: str) -> None:
        js = nc.jetstream()
        await ensure_stream(js, "datasharing", NatsSettings(duplicate_window_seconds=120))
        info = await js.stream_info(clean_stream)
        assert info.config.duplicate_window == 120
        assert info.config.subjects == ["yiwang.datasharing.>"]


class TestFilterSubject:
    def test_one_subject_is_its_own_filter(self) -> None:
        assert (
            filter_subject({"yiwang.management.case.accepted.v1": None})
            == "yiwang.management.case.accepted.v1"
        )

    def test_several_subjects_share_the_narrowest_wildcard(self) -> None:
        subjects = {"yiwang.business.case.step_completed.v1": None, "yiwang.business.case.decided.v1": None}
        assert filter_subject(subjects) == "yiwang.business.case.>"
        mixed = {"yiwang.management.item.published.v1": None, "yiwang.management.case.accepted.v1": None}
        assert filter_subject(mixed) == "yiwang.management.>"

    async def test_sibling_events_inside_the_filter_are_acked_unread(
        self, sessionmaker: async_sessionmaker[AsyncSession], nc: NatsClient, clean_stream: str
    ) -> None:
        handled: list[str] = []

        async def handler(session: AsyncSession, envelope: EventEnvelope, data: LicenceRegistered) -> None:
            handled.append(str(envelope.id))

        js = nc.jetstream()
        # Two handled subjects share the filter "yiwang.datasharing.licence.>"; a third event type
        # inside it has no handler here.
        await js.publish("yiwang.datasharing.licence.revoked.v1", b'{"not": "ours"}')
        good = licence_event()
        await js.publish(good.nats_subject, good.model_dump_json().encode())
        durable = f"test__{uuid.uuid4().hex[:8]}"
        handlers = {LicenceRegistered: handler, _LicenceArchived: handler}
        sub = Subscription(durable=durable, source="datasharing", handlers=handlers)
        runner = ConsumerRunner(js, sessionmaker, tables.inbox, sub, NatsSettings(), fetch_timeout=0.5)
        exact = supports_filter_subjects(js)
        config = runner.consumer_config()
        if exact:
            # nats-server 2.10+: the consumer lists exactly its subjects.
            assert config.filter_subject is None
            assert config.filter_subjects == sorted([LicenceRegistered.subject, _LicenceArchived.subject])
        else:
            assert config.filter_subject == "yiwang.datasharing.licence.>"
        task = asyncio.create_task(runner.run())
        for _ in range(50):
            if handled:
                info = await js.consumer_info(clean_stream, durable)
                if info.num_ack_pending == 0 and info.num_pending == 0:
                    break
            await asyncio.sleep(0.1)
        runner.stop()
        task.cancel()
        assert handled == [str(good.id)]
        assert info.num_ack_pending == 0 and info.num_redelivered == 0
        # The sibling is delivered (and acked unread) only where the filter had to be a wildcard.
        assert info.delivered.consumer_seq == (1 if exact else 2)


class _LicenceArchived(LicenceRegistered):
    subject = "yiwang.datasharing.licence.archived.v1"
