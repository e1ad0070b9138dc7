"""Through real NATS JetStream: CaseAccepted in, CaseStepCompleted and CaseDecided out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import orjson
import pytest
from business_testkit import APPROVER, REVIEWER, accepted, envelope, scalar
from nats.aio.client import Client as NatsClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from yiwang_business.config import Settings
from yiwang_business.main import create_app
from yiwang_common.events.outbox import serialize
from yiwang_common.testing import fresh_streams

APPROVE = {"decision": "approve", "opinion": "同意。"}


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 10.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.05)


@pytest.fixture
async def nc(nc: NatsClient) -> NatsClient:
    # The plugin's connection, on empty streams of the two services this suite talks over.
    await fresh_streams(nc.jetstream(), "management", "business")
    return nc


@pytest.fixture
async def live_client(
    settings: Settings, engine: AsyncEngine, nc: NatsClient
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.model_copy(update={"run_workers": True}))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            yield http


class TestBusRoundTrip:
    async def test_accepted_case_flows_to_decision_events(
        self, live_client: httpx.AsyncClient, nc: NatsClient, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        js = nc.jetstream()
        data = accepted()
        event = envelope(data)
        # Two sends with different message ids get past JetStream's dedupe; the inbox must drop the second.
        for msg_id in ("first", "second"):
            await js.publish(data.subject, serialize(event), headers={"Nats-Msg-Id": f"{event.id}-{msg_id}"})

        async def tasks_for(headers: dict[str, str]) -> list[dict[str, Any]]:
            items: list[dict[str, Any]] = (await live_client.get("/api/v1/tasks", headers=headers)).json()[
                "items"
            ]
            return items

        [review] = await eventually(lambda: tasks_for(REVIEWER))
        assert await eventually(
            lambda: scalar(sessionmaker, "SELECT count(*) FROM inbox WHERE consumer = 'business__management'")
        )
        await live_client.post(f"/api/v1/tasks/{review['id']}/complete", json=APPROVE, headers=REVIEWER)
        [decide] = await tasks_for(APPROVER)
        await live_client.post(f"/api/v1/tasks/{decide['id']}/complete", json=APPROVE, headers=APPROVER)

        sub = await js.pull_subscribe(
            "yiwang.business.>", durable="test_business_out", stream="YIWANG_BUSINESS"
        )
        # The relay publishes after each commit, so the second event may trail the first fetch.
        msgs: list[Any] = []
        while len(msgs) < 2:
            msgs += await sub.fetch(2 - len(msgs), timeout=10)
        assert [m.subject for m in msgs] == [
            "yiwang.business.case.step_completed.v1",
            "yiwang.business.case.decided.v1",
        ]
        assert all(m.headers and m.headers["Nats-Msg-Id"] == orjson.loads(m.data)["id"] for m in msgs)
        assert orjson.loads(msgs[1].data)["data"]["case_no"] == data.case_no
        assert await scalar(sessionmaker, "SELECT count(*) FROM business_case") == 1
        # The relay marks rows after the PubAcks arrive, so this trails the messages slightly.
        unpublished = "SELECT count(*) = 0 FROM outbox WHERE published_at IS NULL"
        assert await eventually(lambda: scalar(sessionmaker, unpublished))
