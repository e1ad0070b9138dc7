"""缴费与送达 on the applicant's timeline (ADR 0117): management's payment and delivery events,
consumed from real NATS JetStream through the inbox, add 缴费成功 / 已寄出（运单号…）/ 物流更新 /
已送达 or 已领取 once each, however often they are delivered; the public lookup shows titles only."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from gateway_cases import CASE_NO, T0, case_view, deliver, registered, submit_application
from gateway_support import Accounts, count, envelope
from nats.aio.client import Client as NatsClient

from yiwang_common.config import NatsSettings
from yiwang_common.contracts.management import (
    DeliveryCompleted,
    DeliveryDispatched,
    DeliveryTrackingUpdated,
    ItemPublished,
    PaymentOrderPaid,
)
from yiwang_common.db import session_scope
from yiwang_common.events import ConsumerRunner, EventData, EventEnvelope
from yiwang_common.events.outbox import serialize
from yiwang_common.testing import fresh_streams
from yiwang_gateway.db import messaging
from yiwang_gateway.main import MANAGEMENT_SUBSCRIPTION
from yiwang_gateway.progress import events as handlers

TRACKING_NO = "1151234567890"


@pytest.fixture
async def nc(nc: NatsClient) -> NatsClient:
    await fresh_streams(nc.jetstream(), "management")
    return nc


def paid(app_id: uuid.UUID, account: Any) -> PaymentOrderPaid:
    return PaymentOrderPaid(
        order_no=f"ZF{CASE_NO}",
        case_no=CASE_NO,
        application_id=app_id,
        applicant_id=str(account.id),
        amount_fen=1050,
        provider="sandbox",
        provider_txn_id="SBT1",
        receipt_no="PJ53042820260000000001",
        paid_at=T0,
        recorded_via="notification",
    )


def dispatched(app_id: uuid.UUID, account: Any) -> DeliveryDispatched:
    return DeliveryDispatched(
        case_no=CASE_NO,
        application_id=app_id,
        applicant_id=str(account.id),
        courier="ems",
        courier_name="中国邮政 EMS",
        tracking_no=TRACKING_NO,
        dispatched_at=T0,
    )


def tracked(app_id: uuid.UUID, account: Any) -> DeliveryTrackingUpdated:
    return DeliveryTrackingUpdated(
        case_no=CASE_NO,
        application_id=app_id,
        applicant_id=str(account.id),
        kind="out_for_delivery",
        description="元江营业部派送中",
        tracking_no=TRACKING_NO,
        at=T0,
    )


def delivered(app_id: uuid.UUID, account: Any, kind: str = "delivered") -> DeliveryCompleted:
    return DeliveryCompleted.model_validate(
        {
            "case_no": CASE_NO,
            "application_id": app_id,
            "applicant_id": str(account.id),
            "method": "post" if kind == "delivered" else "window",
            "kind": kind,
            "tracking_no": TRACKING_NO if kind == "delivered" else None,
            "delivered_at": T0,
            "on_time": True,
        }
    )


async def wait_for(predicate: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def consume(nc: NatsClient, sessionmaker: Any, envelopes: list[EventEnvelope], *, copies: int) -> None:
    """Publish each envelope ``copies`` times under different message ids (past JetStream's own
    dedupe, so only the inbox can stop a replay) and run the gateway's management consumer."""
    js = nc.jetstream()
    for env in envelopes:
        for copy in range(copies):
            await js.publish(env.nats_subject, serialize(env), headers={"Nats-Msg-Id": f"{env.id}-{copy}"})
    runner = ConsumerRunner(
        js, sessionmaker, messaging.inbox, MANAGEMENT_SUBSCRIPTION, NatsSettings(), fetch_timeout=0.2
    )
    task = asyncio.create_task(runner.run())

    async def done() -> bool:
        return runner.processed >= len(envelopes) * copies

    try:
        await wait_for(done)
    finally:
        runner.stop()
        await task


def _envelopes(*events: EventData) -> list[EventEnvelope]:
    return [envelope(e, subject=CASE_NO) for e in events]


class TestTimeline:
    async def test_payment_and_post_reach_the_timeline_once_each(
        self,
        nc: NatsClient,
        client: httpx.AsyncClient,
        accounts: Accounts,
        auth: Any,
        item: ItemPublished,
        sessionmaker: Any,
    ) -> None:
        headers = auth(accounts.zhangsan)
        app_id = await submit_application(client, headers)
        z = accounts.zhangsan
        await deliver(sessionmaker, registered(app_id, z))
        before = await count(sessionmaker, "timeline_entry")
        envelopes = _envelopes(
            paid(app_id, z), dispatched(app_id, z), tracked(app_id, z), delivered(app_id, z)
        )
        await consume(nc, sessionmaker, envelopes, copies=2)
        assert await count(sessionmaker, "timeline_entry") == before + 4
        assert await count(sessionmaker, "inbox") == 4
        lines = (await case_view(client, headers))["timeline"][-4:]
        assert [(t["title"], t["detail"]) for t in lines] == [
            ("缴费成功", "已缴 ¥10.50；电子票据号：PJ53042820260000000001"),
            ("已寄出", f"已寄出（运单号 {TRACKING_NO}）；承运方：中国邮政 EMS"),
            ("物流更新：派送中", "元江营业部派送中"),
            ("已送达", f"邮件已签收（运单号 {TRACKING_NO}）"),
        ]
        # Bypassing the inbox, the handlers themselves add nothing twice (the event id is unique).
        routes = MANAGEMENT_SUBSCRIPTION.by_subject
        for env in envelopes:
            model, handler = routes[env.nats_subject]
            async with session_scope(sessionmaker) as session:
                await handler(session, env, model.model_validate(env.data))
        assert await count(sessionmaker, "timeline_entry") == before + 4
        # The public lookup by 办件编号 shows the titles, never the tracking number or the receipt.
        public = await client.get(f"/progress/{CASE_NO}")
        assert public.status_code == 200, public.text
        assert "已寄出" in public.text and TRACKING_NO not in public.text and "PJ5304" not in public.text

    async def test_window_pick_up_and_events_of_unknown_cases(
        self,
        client: httpx.AsyncClient,
        accounts: Accounts,
        auth: Any,
        item: ItemPublished,
        sessionmaker: Any,
    ) -> None:
        headers = auth(accounts.zhangsan)
        app_id = await submit_application(client, headers)
        z = accounts.zhangsan
        await deliver(sessionmaker, registered(app_id, z))
        before = await count(sessionmaker, "timeline_entry")
        # Events about applications this portal does not track are dropped (no line, no error).
        async with session_scope(sessionmaker) as session:
            stranger = delivered(uuid.uuid4(), z)
            await handlers.on_delivery_completed(session, envelope(stranger, subject=CASE_NO), stranger)
            elsewhere = paid(uuid.uuid4(), z)
            await handlers.on_payment_order_paid(session, envelope(elsewhere, subject=CASE_NO), elsewhere)
        assert await count(sessionmaker, "timeline_entry") == before
        picked = delivered(app_id, z, "picked_up")
        async with session_scope(sessionmaker) as session:
            await handlers.on_delivery_completed(session, envelope(picked, subject=CASE_NO), picked)
        last = (await case_view(client, headers))["timeline"][-1]
        assert (last["title"], last["detail"]) == ("已领取", "办理结果已在窗口领取")
        assert [t["title"] for t in (await case_view(client, headers))["timeline"]].count("已领取") == 1
