"""The shared test helpers: drift check, outbox reader, tokens, streams (each can fail)."""

from __future__ import annotations

from common_samples import licence_event
from nats.aio.client import Client as NatsClient
from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.auth import Principal, TokenVerifier
from yiwang_common.config import DatabaseSettings
from yiwang_common.db import create_engine, session_scope
from yiwang_common.events import MessagingTables, enqueue, messaging_tables
from yiwang_common.events.streams import stream_name
from yiwang_common.testing import bearer, ephemeral_auth, fresh_streams, migration_drift, outbox_events


class TestMigrationDrift:
    async def test_no_drift_when_the_database_matches_and_drift_when_a_table_is_missing(
        self, fresh_database_url: str, schema: tuple[Table, MessagingTables]
    ) -> None:
        # A database of its own: other tests add tables to the session's database.
        models = schema[0].metadata
        wider = MetaData()
        Table("thing", wider, Column("id", Integer, primary_key=True), Column("name", String(50)))
        messaging_tables(wider)
        Table("thing_extra", wider, Column("id", Integer, primary_key=True))
        engine = create_engine(DatabaseSettings(url=fresh_database_url, schema_name="public"))
        try:
            async with engine.begin() as conn:
                await conn.run_sync(models.create_all)
            async with engine.connect() as conn:
                assert await conn.run_sync(migration_drift, models) == []
                drift = await conn.run_sync(migration_drift, wider)
        finally:
            await engine.dispose()
        assert [(d[0], d[1].name) for d in drift] == [("add_table", "thing_extra")]


class TestOutboxEvents:
    async def test_reads_subject_and_envelope_in_order(
        self, sessionmaker: async_sessionmaker[AsyncSession], schema: tuple[Table, MessagingTables]
    ) -> None:
        outbox = schema[1].outbox
        events = []
        for n in ("1", "2"):
            events.append(
                licence_event(
                    f"53042820261123000001{n}",
                    source="urn:yiwang:test:common",
                    identifier=f"1.2.156.3005.2.X.Y.{n}.001.X",
                    type_code="X",
                    licence_no=n,
                )
            )
        async with session_scope(sessionmaker) as session:
            await enqueue(session, outbox, *events)
        rows = await outbox_events(sessionmaker, outbox)
        assert [(s, e["id"]) for s, e in rows] == [(e.nats_subject, str(e.id)) for e in events]
        assert await outbox_events(sessionmaker, outbox, subject="yiwang.nobody.x.y.v1") == []


class TestTokensAndStreams:
    def test_bearer_is_accepted_by_the_services_verifier(self) -> None:
        principal = Principal(
            sub="zhangsan", name="张三", kind="natural_person", roles=frozenset({"applicant"})
        )
        header = bearer(principal)["Authorization"]
        assert header.startswith("Bearer ")
        token = header.removeprefix("Bearer ")
        assert TokenVerifier(ephemeral_auth()).verify(token).sub == "zhangsan"

    async def test_fresh_streams_empties_a_stream(self, nc: NatsClient) -> None:
        js = nc.jetstream()
        await fresh_streams(js, "testingplugin")
        await js.publish("yiwang.testingplugin.x.y.v1", b"{}")
        assert (await js.stream_info(stream_name("testingplugin"))).state.messages == 1
        await fresh_streams(js, "testingplugin")
        assert (await js.stream_info(stream_name("testingplugin"))).state.messages == 0
        await js.delete_stream(stream_name("testingplugin"))
