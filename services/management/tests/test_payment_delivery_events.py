"""缴费与送达的事件 (ADR 0117): every payment and delivery state change enqueues its event in the same
unit of work, a refused request enqueues nothing, a rolled-back one leaves neither the change nor
the event, personal data is masked, and the relay publishes them on real NATS JetStream; plus the
console pages of delivery, payment and reconciliation (deny by default, CSRF, scope)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from management_factories import (
    ACCEPTOR,
    OTHER_ACCEPTOR,
    REVIEWER,
    SUPERVISOR,
    Browser,
    auth,
    load_case,
    outbox,
    register,
    submitted,
)
from nats.aio.client import Client as NatsClient
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from test_payment_delivery import APPLICANT, DELIVERER, decide, notify, open_order, pay, set_fees

from yiwang_common.auth import Principal
from yiwang_common.db import session_scope, utcnow
from yiwang_common.events import stream_name
from yiwang_common.testing import fresh_streams
from yiwang_management.case.handlers import CaseEventHandlers
from yiwang_management.config import Settings
from yiwang_management.delivery import service as delivery_service
from yiwang_management.delivery.courier import SandboxCourier
from yiwang_management.delivery.models import CaseDelivery
from yiwang_management.main import create_app
from yiwang_management.shared import local_date

CREATED = "yiwang.management.payment_order.created.v1"
PAID = "yiwang.management.payment_order.paid.v1"
ARRANGED = "yiwang.management.delivery.arranged.v1"
DISPATCHED = "yiwang.management.delivery.dispatched.v1"
TRACKED = "yiwang.management.delivery.tracking_updated.v1"
DELIVERED = "yiwang.management.delivery.delivered.v1"
DELIVERY_SUBJECTS = (ARRANGED, DISPATCHED, TRACKED, DELIVERED)
ADDRESS = {
    "method": "post",
    "recipient_name": "张三丰",
    "recipient_phone": "13800138000",
    "address": "云南省玉溪市元江县澧江街道滨江花园3栋2单元501",
    "postcode": "653300",
}
SOURCE = "urn:yiwang:530428:management"
CONSOLE = "/console/manage"


async def events(sessionmaker: async_sessionmaker[AsyncSession], *subjects: str) -> list[dict[str, Any]]:
    """The outbox's events of these subjects, oldest first."""
    return [e for e in await outbox(sessionmaker) if e["nats_subject"] in subjects]


async def decided(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    handlers: CaseEventHandlers,
    case_no: str,
) -> None:
    accepted = await client.post(
        f"/cases/{case_no}/accept", json={"opinion": "予以受理"}, headers=auth(ACCEPTOR)
    )
    assert accepted.status_code == 200, accepted.text
    await decide(sessionmaker, handlers, case_no, utcnow())


async def choose_post(client: httpx.AsyncClient, case_no: str) -> None:
    chosen = await client.put(f"/cases/{case_no}/delivery", json=ADDRESS, headers=auth(APPLICANT))
    assert chosen.status_code == 200, chosen.text


class TestPaymentEvents:
    async def test_the_order_is_announced_once_and_its_payment_once(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        case_no: str,
        item: str,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        await set_fees(client, item, "before_acceptance")
        body, header, order = await pay(app, client, case_no)
        await open_order(client, case_no)  # asking again makes no second order, and no second event
        case = await load_case(sessionmaker, case_no)
        [created] = await events(sessionmaker, CREATED)
        assert created["subject"] == case_no and created["source"] == SOURCE
        assert created["data"] | {"created_at": None} == {
            "order_no": f"ZF{case_no}",
            "case_no": case_no,
            "application_id": str(case.application_id),
            "applicant_id": "acct-zhangsan",
            "item_code": item,
            "org_code": case.org_code,
            "timing": "before_acceptance",
            "amount_fen": 1000,
            "lines": [
                {"name": order["lines"][0]["name"], "amount_fen": 1000, "basis": order["lines"][0]["basis"]}
            ],
            "provider": "sandbox",
            "created_at": None,
        }
        assert await events(sessionmaker, PAID) == []  # paid at the provider, not yet known here
        assert (await notify(client, body, header)).status_code == 200
        assert (await notify(client, body, header)).json()["duplicate"] is True
        # The portal's query after the return finds it paid and records nothing more.
        assert (await client.get(f"/cases/{case_no}/payment", headers=auth(APPLICANT))).json()["paid"] is True
        [paid] = await events(sessionmaker, PAID)
        receipt_no = (await open_order(client, case_no))["receipt_no"]
        assert paid["data"]["receipt_no"] == receipt_no and receipt_no.startswith("PJ530428")
        assert (paid["data"]["amount_fen"], paid["data"]["recorded_via"]) == (1000, "notification")
        assert paid["data"]["application_id"] == str(case.application_id)

    async def test_the_query_path_records_the_payment_with_its_event(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        case_no: str,
        item: str,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        await set_fees(client, item, "before_acceptance")
        await pay(app, client, case_no)  # the notification never arrives
        assert (await client.get(f"/cases/{case_no}/payment", headers=auth(APPLICANT))).json()["paid"] is True
        [paid] = await events(sessionmaker, PAID)
        assert paid["data"]["recorded_via"] == "query"

    async def test_forged_or_altered_notifications_enqueue_nothing(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        case_no: str,
        item: str,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        from yiwang_management.payment import provider as signatures

        await set_fees(client, item, "before_acceptance")
        body, header, _ = await pay(app, client, case_no)
        before = len(await outbox(sessionmaker))
        forged = await notify(client, body, header.replace("v1=", "v1=0"))
        assert forged.status_code == 400
        changed = orjson.dumps(orjson.loads(body) | {"amount_fen": 1})
        secret = settings.payment.sandbox_secret.get_secret_value().encode()
        altered = await notify(client, changed, signatures.sign(secret, changed))
        assert altered.status_code == 422
        assert len(await outbox(sessionmaker)) == before
        assert await events(sessionmaker, PAID) == []
        refused = await client.post(f"/cases/{case_no}/accept", json={}, headers=auth(ACCEPTOR))
        assert (refused.status_code, refused.json()["code"]) == (409, "payment_required")
        assert len(await outbox(sessionmaker)) == before


class TestDeliveryEvents:
    async def test_post_arranged_dispatched_tracked_and_delivered(
        self,
        client: httpx.AsyncClient,
        case_no: str,
        handlers: CaseEventHandlers,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        await choose_post(client, case_no)
        [arranged] = await events(sessionmaker, ARRANGED)
        data = arranged["data"]
        assert (data["method"], data["recipient_name"], data["recipient_phone"], data["postcode"]) == (
            "post",
            "张**",
            "138****8000",
            "653300",
        )
        # The address and the full name and phone never leave management.
        flat = orjson.dumps(arranged).decode()
        for secret in ("滨江花园", "张三丰", "13800138000"):
            assert secret not in flat
        await decided(client, sessionmaker, handlers, case_no)
        before = len(await outbox(sessionmaker))
        # Refused requests change nothing and announce nothing.
        wrong = await client.post(
            f"/cases/{case_no}/delivery/hand-over", json={"collected_by": "张三"}, headers=auth(DELIVERER)
        )
        assert wrong.json()["code"] == "wrong_delivery_method"
        early = await client.post(
            f"/cases/{case_no}/delivery/events",
            json={"kind": "in_transit", "description": "x"},
            headers=auth(DELIVERER),
        )
        assert early.json()["code"] == "tracking_event_rejected"
        bad = await client.post(
            f"/cases/{case_no}/delivery/dispatch",
            json={"courier": "ems", "tracking_no": "no!"},
            headers=auth(DELIVERER),
        )
        assert bad.status_code == 422
        assert len(await outbox(sessionmaker)) == before
        sent = await client.post(
            f"/cases/{case_no}/delivery/dispatch",
            json={"courier": "ems", "tracking_no": "1151234567890"},
            headers=auth(DELIVERER),
        )
        assert sent.status_code == 200, sent.text
        assert (sent.json()["courier_name"], sent.json()["tracking_no"]) == ("中国邮政 EMS", "1151234567890")
        again = await client.post(f"/cases/{case_no}/delivery/dispatch", headers=auth(DELIVERER))
        assert again.json()["code"] == "delivery_closed"
        for kind, description in (("in_transit", "已到达玉溪处理中心"), ("delivered", "本人签收")):
            r = await client.post(
                f"/cases/{case_no}/delivery/events",
                json={"kind": kind, "description": description},
                headers=auth(DELIVERER),
            )
            assert r.status_code == 200, r.text
        late = await client.post(
            f"/cases/{case_no}/delivery/events",
            json={"kind": "in_transit", "description": "x"},
            headers=auth(DELIVERER),
        )
        assert late.json()["code"] == "delivery_closed"
        published = await events(sessionmaker, *DELIVERY_SUBJECTS)
        assert [e["nats_subject"] for e in published] == [ARRANGED, DISPATCHED, TRACKED, DELIVERED]
        dispatched, tracked, delivered = (e["data"] for e in published[1:])
        assert (dispatched["courier"], dispatched["courier_name"], dispatched["tracking_no"]) == (
            "ems",
            "中国邮政 EMS",
            "1151234567890",
        )
        assert (tracked["kind"], tracked["description"], tracked["tracking_no"]) == (
            "in_transit",
            "已到达玉溪处理中心",
            "1151234567890",
        )
        assert (delivered["kind"], delivered["method"], delivered["on_time"]) == ("delivered", "post", True)
        assert len({e["id"] for e in published}) == 4

    async def test_a_tracking_number_of_another_delivery_is_refused(
        self,
        client: httpx.AsyncClient,
        case_no: str,
        handlers: CaseEventHandlers,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        other = await register(sessionmaker, handlers, submitted())
        for number in (case_no, other):
            await choose_post(client, number)
            await decided(client, sessionmaker, handlers, number)
        waybill = {"courier": "sf", "tracking_no": "SF1234567890"}
        first = await client.post(
            f"/cases/{case_no}/delivery/dispatch", json=waybill, headers=auth(DELIVERER)
        )
        assert first.status_code == 200
        taken = await client.post(f"/cases/{other}/delivery/dispatch", json=waybill, headers=auth(DELIVERER))
        assert (taken.status_code, taken.json()["code"]) == (409, "tracking_number_taken")
        assert len(await events(sessionmaker, DISPATCHED)) == 1
        # Without a waybill the sandbox courier books one and issues the number.
        booked = await client.post(f"/cases/{other}/delivery/dispatch", headers=auth(DELIVERER))
        assert booked.json()["tracking_no"].startswith("YWSB")
        assert [e["data"]["courier"] for e in await events(sessionmaker, DISPATCHED)] == ["sf", "sandbox"]

    async def test_window_pick_up_is_announced_as_picked_up(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        case_no: str,
        item: str,
        handlers: CaseEventHandlers,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        await set_fees(client, item, "before_delivery")
        await decided(client, sessionmaker, handlers, case_no)
        before = len(await outbox(sessionmaker))
        held = await client.post(
            f"/cases/{case_no}/delivery/hand-over", json={"collected_by": "张三"}, headers=auth(DELIVERER)
        )
        assert (held.status_code, held.json()["code"]) == (409, "payment_required")
        assert len(await outbox(sessionmaker)) == before
        body, header, _ = await pay(app, client, case_no)
        await notify(client, body, header)
        handed = await client.post(
            f"/cases/{case_no}/delivery/hand-over", json={"collected_by": "张三"}, headers=auth(DELIVERER)
        )
        assert handed.status_code == 200
        [done] = await events(sessionmaker, DELIVERED)
        assert (done["data"]["kind"], done["data"]["method"], done["data"]["tracking_no"]) == (
            "picked_up",
            "window",
            None,
        )
        assert await events(sessionmaker, ARRANGED) == []  # nobody chose: the default is no event

    async def test_the_change_and_its_event_commit_together_or_not_at_all(
        self,
        client: httpx.AsyncClient,
        case_no: str,
        handlers: CaseEventHandlers,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        await choose_post(client, case_no)
        await decided(client, sessionmaker, handlers, case_no)

        class Abort(Exception):
            pass

        async def dispatch_then_fail() -> None:
            async with session_scope(sessionmaker) as session:
                view = await delivery_service.dispatch(
                    session, case_no, DELIVERER, courier=SandboxCourier(), source=SOURCE
                )
                assert view.status == "dispatched"
                # Inside the unit of work the event is queued; something later fails.
                raise Abort

        with pytest.raises(Abort):
            await dispatch_then_fail()
        async with sessionmaker() as session:
            delivery = await session.get(CaseDelivery, case_no)
            assert delivery is not None and (delivery.status, delivery.tracking_no) == ("ready", None)
        assert await events(sessionmaker, DISPATCHED) == []
        async with session_scope(sessionmaker) as session:
            await delivery_service.dispatch(
                session, case_no, DELIVERER, courier=SandboxCourier(), source=SOURCE
            )
        [dispatched] = await events(sessionmaker, DISPATCHED)
        async with sessionmaker() as session:
            delivery = await session.get(CaseDelivery, case_no)
            assert delivery is not None and delivery.tracking_no == dispatched["data"]["tracking_no"]


@pytest.fixture
async def nc(nc: NatsClient) -> NatsClient:
    await fresh_streams(nc.jetstream(), "management")
    return nc


class TestPublished:
    async def test_the_relay_publishes_delivery_events_on_jetstream(
        self,
        nc: NatsClient,
        settings: Settings,
        case_no: str,
        handlers: CaseEventHandlers,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        app = create_app(settings.model_copy(update={"run_workers": True}))
        js = nc.jetstream()
        sub = await js.pull_subscribe("yiwang.management.delivery.>", stream=stream_name("management"))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as http:
                await choose_post(http, case_no)
                await decided(http, sessionmaker, handlers, case_no)
                sent = await http.post(
                    f"/cases/{case_no}/delivery/dispatch",
                    json={"courier": "ems", "tracking_no": "1159876543210"},
                    headers=auth(DELIVERER),
                )
                assert sent.status_code == 200
            messages = []
            while len(messages) < 2:
                messages += await sub.fetch(2 - len(messages), timeout=10)
            for msg in messages:
                await msg.ack()
        subjects = [m.subject for m in messages]
        assert subjects == [ARRANGED, DISPATCHED]
        payload = orjson.loads(messages[1].data)
        assert (payload["data"]["tracking_no"], payload["subject"]) == ("1159876543210", case_no)
        assert messages[1].header is not None and messages[1].header["Nats-Msg-Id"] == payload["id"]


class TestConsolePages:
    async def test_the_board_posts_a_result_and_records_its_tracking(
        self,
        browser: Callable[[Principal], Browser],
        client: httpx.AsyncClient,
        case_no: str,
        handlers: CaseEventHandlers,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        await choose_post(client, case_no)
        await decided(client, sessionmaker, handlers, case_no)
        staff = browser(DELIVERER)
        board = await staff.http.get(f"{CONSOLE}/deliveries")
        assert board.status_code == 200
        row = board.text.split(f'id="delivery-{case_no}"')[1].split("</tr>")[0]
        assert "邮寄送达" in row and "待送达" in row and "张*" in row and "正常" in row
        page = await staff.http.get(f"{CONSOLE}/deliveries/{case_no}")
        assert "滨江花园3栋2单元501" in page.text and "张**（138****8000）" in page.text
        forged = await staff.http.post(
            f"{CONSOLE}/deliveries/{case_no}/dispatch",
            data={"csrf": "x", "courier": "ems", "tracking_no": "1151234567890"},
        )
        assert forged.status_code == 400
        invalid = await staff.http.post(
            f"{CONSOLE}/deliveries/{case_no}/dispatch",
            data={"csrf": staff.csrf, "courier": "ems", "tracking_no": "空"},
        )
        assert invalid.status_code == 422
        assert await events(sessionmaker, DISPATCHED) == []
        sent = await staff.http.post(
            f"{CONSOLE}/deliveries/{case_no}/dispatch",
            data={"csrf": staff.csrf, "courier": "ems", "tracking_no": "1151234567890"},
        )
        assert sent.status_code == 303
        shown = await staff.http.get(sent.headers["location"])
        assert "已登记寄出" in shown.text and "中国邮政 EMS 1151234567890" in shown.text
        scan = await staff.http.post(
            f"{CONSOLE}/deliveries/{case_no}/events",
            data={"csrf": staff.csrf, "kind": "out_for_delivery", "description": "元江营业部派送中"},
        )
        assert scan.status_code == 303
        signed = await staff.http.post(
            f"{CONSOLE}/deliveries/{case_no}/events", data={"csrf": staff.csrf, "kind": "delivered"}
        )
        assert signed.status_code == 303
        done = await staff.http.get(signed.headers["location"])
        assert "已登记签收" in done.text and "已送达" in done.text and "派送中：元江营业部派送中" in done.text
        assert [e["nats_subject"] for e in await events(sessionmaker, DISPATCHED, TRACKED, DELIVERED)] == [
            DISPATCHED,
            TRACKED,
            DELIVERED,
        ]
        # Delivered: off the board.
        assert f'id="delivery-{case_no}"' not in (await staff.http.get(f"{CONSOLE}/deliveries")).text

    async def test_the_board_marks_yellow_and_red_and_hands_over_at_the_window(
        self,
        browser: Callable[[Principal], Browser],
        client: httpx.AsyncClient,
        case_no: str,
        handlers: CaseEventHandlers,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        other = await register(sessionmaker, handlers, submitted())
        for number in (case_no, other):
            await decided(client, sessionmaker, handlers, number)
        today = local_date(utcnow())
        async with session_scope(sessionmaker) as session:
            # case_no is past its limit; other is inside its warning window.
            await session.execute(
                text("UPDATE case_delivery SET due_date = :d WHERE case_no = :c"),
                {"d": today.fromordinal(today.toordinal() - 1), "c": case_no},
            )
            await session.execute(
                text(
                    "UPDATE case_step_clock SET warn_date = :d WHERE case_no = :c AND step_key = 'delivery'"
                ),
                {"d": today, "c": other},
            )
        staff = browser(ACCEPTOR)
        board = (await staff.http.get(f"{CONSOLE}/deliveries")).text
        late = board.split(f'id="delivery-{case_no}"')[1].split("</tr>")[0]
        near = board.split(f'id="delivery-{other}"')[1].split("</tr>")[0]
        assert "level-red" in late and "超时" in late
        assert "level-yellow" in near and "预警" in near
        assert board.index(case_no) < board.index(other)  # soonest due first
        handed = await staff.http.post(
            f"{CONSOLE}/deliveries/{case_no}/hand-over", data={"csrf": staff.csrf, "collected_by": "张三"}
        )
        assert handed.status_code == 303
        page = (await staff.http.get(handed.headers["location"])).text
        assert "已登记窗口领取" in page and "超期" in page
        [done] = await events(sessionmaker, DELIVERED)
        assert (done["data"]["kind"], done["data"]["on_time"]) == ("picked_up", False)

    async def test_access_is_denied_by_default_and_scoped_to_the_unit(
        self,
        browser: Callable[[Principal], Browser],
        client: httpx.AsyncClient,
        case_no: str,
        handlers: CaseEventHandlers,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        await decided(client, sessionmaker, handlers, case_no)
        reviewer, supervisor, other = browser(REVIEWER), browser(SUPERVISOR), browser(OTHER_ACCEPTOR)
        assert (await reviewer.http.get(f"{CONSOLE}/deliveries")).status_code == 403
        assert (await supervisor.http.get(f"{CONSOLE}/deliveries/{case_no}")).status_code == 403
        denied = await reviewer.http.post(
            f"{CONSOLE}/deliveries/{case_no}/hand-over", data={"csrf": reviewer.csrf, "collected_by": "张三"}
        )
        assert denied.status_code == 403
        assert (await browser(ACCEPTOR).http.get(f"{CONSOLE}/reconciliations")).status_code == 403
        # Another unit's acceptor: the case is not on its board and its page is "not there".
        assert case_no not in (await other.http.get(f"{CONSOLE}/deliveries")).text
        assert (await other.http.get(f"{CONSOLE}/deliveries/{case_no}")).status_code == 404
        assert (await other.http.get(f"{CONSOLE}/cases/{case_no}/payment")).status_code == 404
        assert await events(sessionmaker, DELIVERED) == []
        async with sessionmaker() as session:
            status = await session.scalar(select(CaseDelivery.status).where(CaseDelivery.case_no == case_no))
        assert status == "ready"

    async def test_payment_page_and_receipt_then_the_reconciliation_report(
        self,
        app: FastAPI,
        browser: Callable[[Principal], Browser],
        client: httpx.AsyncClient,
        case_no: str,
        item: str,
        handlers: CaseEventHandlers,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        await set_fees(client, item, "before_acceptance")
        staff = browser(ACCEPTOR)
        due = (await staff.http.get(f"{CONSOLE}/cases/{case_no}/payment")).text
        assert "受理前缴费，合计 ¥10.00" in due and "尚无缴费订单" in due
        body, header, _ = await pay(app, client, case_no)
        await notify(client, body, header)
        unpaid_elsewhere = await register(sessionmaker, handlers, submitted())
        await pay(app, client, unpaid_elsewhere)  # paid at the provider, never notified here
        page = (await staff.http.get(f"{CONSOLE}/cases/{case_no}/payment")).text
        orders = page.split('id="payment-orders"')[1].split("</table>")[0]
        assert f"ZF{case_no}" in orders and "已缴费" in orders and "¥10.00" in orders
        receipt_no = (await open_order(client, case_no))["receipt_no"]
        assert f"{receipt_no}（PDF）" in orders
        pdf = await staff.http.get(f"{CONSOLE}/cases/{case_no}/payment/receipt.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        supervisor = browser(SUPERVISOR)
        day = local_date(utcnow())
        forged = await supervisor.http.post(f"{CONSOLE}/reconciliations", data={"csrf": "x", "day": str(day)})
        assert forged.status_code == 400
        future = await supervisor.http.post(
            f"{CONSOLE}/reconciliations",
            data={"csrf": supervisor.csrf, "day": str(day.fromordinal(day.toordinal() + 1))},
        )
        assert future.status_code == 422
        assert (
            await supervisor.http.post(
                f"{CONSOLE}/reconciliations", data={"csrf": supervisor.csrf, "day": "x"}
            )
        ).status_code == 422
        run = await supervisor.http.post(
            f"{CONSOLE}/reconciliations", data={"csrf": supervisor.csrf, "day": str(day)}
        )
        assert run.status_code == 303 and run.headers["location"].endswith(f"/reconciliations/{day}")
        detail = (await supervisor.http.get(run.headers["location"])).text
        summary = detail.split('id="reconciliation-summary"')[1].split("</dl>")[0]
        assert "存在差异" in summary
        lines = detail.split('id="reconciliation-lines"')[1]
        assert lines.index("我方无记录") < lines.index("一致")  # mismatches first
        assert unpaid_elsewhere in lines and case_no in lines
        listing = (await supervisor.http.get(f"{CONSOLE}/reconciliations?status=mismatched")).text
        row = listing.split(f'id="reconciliation-{day}"')[1].split("</tr>")[0]
        assert "<td>1</td><td>1</td><td>0</td><td>0</td>" in row
        assert (
            f'id="reconciliation-{day}"'
            not in (await supervisor.http.get(f"{CONSOLE}/reconciliations?status=balanced")).text
        )
        never = (await supervisor.http.get(f"{CONSOLE}/reconciliations/2020-01-01")).text
        assert "尚未对账" in never
