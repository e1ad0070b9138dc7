"""缴费与送达 Fees paid before acceptance or before delivery, the sandbox provider's signed
notifications (verified, idempotent, forgeries refused), receipts, daily reconciliation with each
kind of mismatch, and delivery of results within five working days, supervised like a step."""

from __future__ import annotations

import io
import logging
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from management_factories import ACCEPTOR, ADMIN, ORG_CODE, SUPERVISOR, auth, load_case, register, submitted
from pypdf import PdfReader
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.auth import Principal
from yiwang_common.calendar import WorkingDayCalendar
from yiwang_common.contracts.business import CaseDecided
from yiwang_common.contracts.common import DecisionDocument, Organisation, StepRecord
from yiwang_common.db import session_scope, utcnow
from yiwang_common.events import make_event
from yiwang_management.case.handlers import CaseEventHandlers
from yiwang_management.config import Settings, SupervisionSettings
from yiwang_management.payment import provider as signatures
from yiwang_management.payment.models import PaymentNotification, PaymentOrder
from yiwang_management.payment.sandbox import SandboxProvider
from yiwang_management.shared import local_date
from yiwang_management.supervision.models import CaseStepClock, SupervisionWarning
from yiwang_management.supervision.sweep import sweep

APPLICANT = Principal(sub="acct-zhangsan", name="张三", kind="natural_person", roles=frozenset({"applicant"}))
STRANGER = Principal(sub="acct-lisi", name="李四", kind="natural_person", roles=frozenset({"applicant"}))
DELIVERER = Principal(
    sub="staff-songda", name="送达刘芳", kind="staff", roles=frozenset({"deliverer"}), org_code=ORG_CODE
)
NOTIFY = "/payments/notifications/sandbox"
FEE = {
    "name": "施工许可证工本费",
    "amount_fen": 1000,
    "basis": "《行政事业性收费标准管理办法》（发改价格规〔2018〕988号）（演示）",
}
SOURCE = "urn:yiwang:530428:management"


async def set_fees(
    client: httpx.AsyncClient, item: str, timing: str, *fees: dict[str, Any]
) -> dict[str, Any]:
    answer = await client.put(
        f"/items/{item}/fees", json={"timing": timing, "fees": list(fees or [FEE])}, headers=auth(ADMIN)
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def sandbox(app: FastAPI) -> SandboxProvider:
    settings: Settings = app.state.settings
    return SandboxProvider(app.state.sessionmaker, settings.payment)


async def open_order(client: httpx.AsyncClient, case_no: str) -> dict[str, Any]:
    answer = await client.post(f"/cases/{case_no}/payment", headers=auth(APPLICANT))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def provider_order_id(order: dict[str, Any]) -> str:
    return str(order["pay_url"]).split("/pay/sandbox/")[1].split("?")[0]


async def pay(app: FastAPI, client: httpx.AsyncClient, case_no: str) -> tuple[bytes, str, dict[str, Any]]:
    """The applicant pays at the sandbox cashier; returns the signed notification it will send."""
    order = await open_order(client, case_no)
    signed = await sandbox(app).pay(provider_order_id(order))
    assert signed is not None
    return signed[0], signed[1], order


async def notify(client: httpx.AsyncClient, body: bytes, header: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers[signatures.SIGNATURE_HEADER] = header
    return await client.post(NOTIFY, content=body, headers=headers)


async def accept(client: httpx.AsyncClient, case_no: str) -> httpx.Response:
    return await client.post(f"/cases/{case_no}/accept", json={"opinion": "予以受理"}, headers=auth(ACCEPTOR))


async def decide(
    sessionmaker: async_sessionmaker[AsyncSession], handlers: CaseEventHandlers, case_no: str, at: datetime
) -> None:
    case = await load_case(sessionmaker, case_no)
    org = Organisation(name=case.org_name, code=case.org_code)
    decision = CaseDecided(
        case_no=case_no,
        application_id=case.application_id,
        item_code=case.item_code,
        outcome="approved",
        decision=DecisionDocument(
            document_no="元住建许〔2026〕第000021号",
            title="准予行政许可决定书",
            body="准予",
            decided_at=at,
            decider_name="决定人",
            org=org,
        ),
        steps=[
            StepRecord(
                step_key="decide",
                step_name="决定",
                action="pass",
                handler_id="staff-juece",
                handler_name="决定人",
                opinion="准予",
                started_at=at - timedelta(hours=1),
                ended_at=at,
                org=org,
            )
        ],
    )
    async with session_scope(sessionmaker) as session:
        await handlers.on_case_decided(
            session, make_event(decision, source="urn:yiwang:530428:business"), decision
        )


async def scalar(sessionmaker: async_sessionmaker[AsyncSession], sql: str, **params: Any) -> Any:
    async with sessionmaker() as session:
        return (await session.execute(text(sql), params)).scalar_one()


class TestFeeSchedule:
    async def test_amounts_come_from_the_schedule_and_only_an_administrator_sets_it(
        self, client: httpx.AsyncClient, item: str
    ) -> None:
        assert (await client.get(f"/items/{item}/fees")).json()["charged"] is False
        bad = await client.put(
            f"/items/{item}/fees",
            json={"timing": "before_delivery", "fees": [FEE | {"amount_fen": 0}]},
            headers=auth(ADMIN),
        )
        assert bad.status_code == 422
        fractional = await client.put(
            f"/items/{item}/fees",
            json={"timing": "before_delivery", "fees": [FEE | {"amount_fen": 10.5}]},
            headers=auth(ADMIN),
        )
        assert fractional.status_code == 422
        refused = await client.put(
            f"/items/{item}/fees", json={"timing": "before_delivery", "fees": [FEE]}, headers=auth(ACCEPTOR)
        )
        assert refused.status_code == 403
        missing = await client.put(
            "/items/X123/fees", json={"timing": "before_delivery", "fees": [FEE]}, headers=auth(ADMIN)
        )
        assert missing.status_code == 404
        two = {"name": "证书邮寄费", "amount_fen": 250, "basis": "演示依据"}
        schedule = await set_fees(client, item, "before_delivery", FEE, two)
        assert (schedule["charged"], schedule["timing_name"], schedule["total_fen"], schedule["total"]) == (
            True,
            "送达前缴费",
            1250,
            "¥12.50",
        )
        assert [f["basis"] for f in (await client.get(f"/items/{item}/fees")).json()["fees"]] == [
            FEE["basis"],
            "演示依据",
        ]


class TestPaymentBeforeAcceptance:
    async def test_the_case_is_accepted_only_once_paid(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        case_no: str,
        item: str,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        await set_fees(client, item, "before_acceptance")
        refused = await accept(client, case_no)
        assert (refused.status_code, refused.json()["code"]) == (409, "payment_required")
        assert (await load_case(sessionmaker, case_no)).status == "pending_acceptance"
        # Another citizen sees no such case; staff cannot open the applicant's order.
        assert (await client.post(f"/cases/{case_no}/payment", headers=auth(STRANGER))).status_code == 404
        assert (await client.post(f"/cases/{case_no}/payment", headers=auth(ACCEPTOR))).status_code == 403
        body, header, order = await pay(app, client, case_no)
        assert (order["amount_fen"], order["status"], order["timing"]) == (
            1000,
            "unpaid",
            "before_acceptance",
        )
        # Asking again gives the same order and cashier.
        assert (await open_order(client, case_no))["pay_url"] == order["pay_url"]
        assert (await notify(client, body, header)).json() == {"code": "SUCCESS", "duplicate": False}
        accepted = await accept(client, case_no)
        assert accepted.status_code == 200, accepted.text
        assert (await load_case(sessionmaker, case_no)).status == "accepted"

    async def test_an_item_without_fees_is_accepted_and_owes_nothing(
        self, client: httpx.AsyncClient, case_no: str
    ) -> None:
        owed = (await client.get(f"/cases/{case_no}/payment", headers=auth(APPLICANT))).json()
        assert (owed["paid"], owed["order"]) == (True, None)
        no_fee = await client.post(f"/cases/{case_no}/payment", headers=auth(APPLICANT))
        assert (no_fee.status_code, no_fee.json()["code"]) == (409, "no_fee_due")
        assert (await accept(client, case_no)).status_code == 200


class TestNotifications:
    async def test_signed_once_recorded_repeats_harmless_forgeries_refused(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        case_no: str,
        item: str,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        await set_fees(client, item, "before_acceptance")
        body, header, order = await pay(app, client, case_no)
        forged = signatures.sign(b"not-the-secret", body)
        tampered = body.replace(b'"amount_fen":1000', b'"amount_fen":1')
        stale = signatures.sign(b"yiwang-sandbox-development-secret", body, now=1_000_000_000)
        for bad_body, bad_header in (
            (body, forged),
            (tampered, header),
            (body, None),
            (body, "t=1,v1=zz"),
            (body, stale),
        ):
            refused = await notify(client, bad_body, bad_header)
            assert (refused.status_code, refused.json()["code"]) == (400, "payment_notification_rejected")
        assert (await open_order(client, case_no))["status"] == "unpaid"
        assert await scalar(sessionmaker, "SELECT count(*) FROM payment_notification") == 0

        first = await notify(client, body, header)
        again = await notify(client, body, header)
        assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
        paid = (await client.get(f"/cases/{case_no}/payment", headers=auth(APPLICANT))).json()
        receipt_no = paid["order"]["receipt_no"]
        assert paid["paid"] and receipt_no.startswith("PJ530428")
        # The provider pays-and-notifies again (a new notification id for the same payment).
        resent = await sandbox(app).pay(provider_order_id(order))
        assert resent is not None
        third = await notify(client, *resent)
        assert third.json() == {"code": "SUCCESS", "duplicate": True}
        async with sessionmaker() as session:
            stored = (await session.scalars(select(PaymentNotification))).all()
            assert sorted(n.applied for n in stored) == [False, True]
            [row] = (await session.scalars(select(PaymentOrder))).all()
            assert (row.status, row.receipt_no, row.amount_fen) == ("paid", receipt_no, 1000)

    async def test_a_signed_notification_with_another_amount_is_not_recorded(
        self, app: FastAPI, client: httpx.AsyncClient, case_no: str, item: str, settings: Settings
    ) -> None:
        await set_fees(client, item, "before_acceptance")
        body, _, _ = await pay(app, client, case_no)
        changed = orjson.dumps(orjson.loads(body) | {"amount_fen": 1})
        secret = settings.payment.sandbox_secret.get_secret_value().encode()
        answer = await notify(client, changed, signatures.sign(secret, changed))
        assert (answer.status_code, answer.json()["code"]) == (422, "payment_amount_mismatch")
        assert (await open_order(client, case_no))["status"] == "unpaid"

    async def test_the_cashier_endpoint_pays_and_the_return_finds_it_paid_by_query(
        self, client: httpx.AsyncClient, case_no: str, item: str
    ) -> None:
        await set_fees(client, item, "before_acceptance")
        order = await open_order(client, case_no)
        pid = provider_order_id(order)
        shown = (await client.get(f"/payment-sandbox/orders/{pid}")).json()
        assert (shown["amount"], shown["status"]) == ("¥10.00", "unpaid")
        paid = await client.post(f"/payment-sandbox/orders/{pid}/pay")
        assert paid.status_code == 200 and paid.json()["status"] == "paid"
        # The notification could not be delivered (no listener in tests): the query finds the payment.
        owed = (await client.get(f"/cases/{case_no}/payment", headers=auth(APPLICANT))).json()
        assert owed["paid"] is True and owed["order"]["receipt_no"]
        assert (await client.get("/payment-sandbox/orders/SBX" + "0" * 24)).status_code == 404


class TestReceipt:
    async def test_the_receipt_pdf_names_its_number_case_and_amount(
        self, app: FastAPI, client: httpx.AsyncClient, case_no: str, item: str
    ) -> None:
        await set_fees(client, item, "before_acceptance")
        early = await client.get(f"/cases/{case_no}/payment/receipt.pdf", headers=auth(APPLICANT))
        assert (early.status_code, early.json()["code"]) == (409, "receipt_not_issued")
        body, header, _ = await pay(app, client, case_no)
        await notify(client, body, header)
        receipt_no = (await client.get(f"/cases/{case_no}/payment", headers=auth(APPLICANT))).json()["order"][
            "receipt_no"
        ]
        pdf = await client.get(f"/cases/{case_no}/payment/receipt.pdf", headers=auth(APPLICANT))
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
        content = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
        for expected in (receipt_no, case_no, "¥10.00", "施工许可证工本费", "张*"):
            assert expected in content, expected
        assert "张三" not in content
        staff = await client.get(f"/cases/{case_no}/payment/receipt.pdf", headers=auth(ACCEPTOR))
        assert staff.status_code == 200
        assert (
            await client.get(f"/cases/{case_no}/payment/receipt.pdf", headers=auth(STRANGER))
        ).status_code == 404


class TestReconciliation:
    async def test_each_kind_of_line_and_the_day_reported_for_supervision(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        item: str,
        handlers: CaseEventHandlers,
        sessionmaker: async_sessionmaker[AsyncSession],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        await set_fees(client, item, "before_acceptance")
        cases = [await register(sessionmaker, handlers, submitted()) for _ in range(5)]
        day = local_date(utcnow())
        paid_here = []
        for case_no in cases:
            body, header, _ = await pay(app, client, case_no)
            if case_no != cases[1]:  # cases[1]: paid at the provider, the notification never arrived
                assert (await notify(client, body, header)).status_code == 200
                paid_here.append(case_no)
        async with session_scope(sessionmaker) as session:
            # cases[2]: the provider's statement does not have it (its books say another day).
            await session.execute(
                text("UPDATE sandbox_payment SET paid_on = paid_on - 3 WHERE merchant_order_no = :o"),
                {"o": f"ZF{cases[2]}"},
            )
            # cases[3]: the provider took another amount than we recorded.
            await session.execute(
                text("UPDATE sandbox_payment SET amount_fen = 900 WHERE merchant_order_no = :o"),
                {"o": f"ZF{cases[3]}"},
            )
        assert (
            await client.post(f"/payments/reconciliations/{day}", headers=auth(ACCEPTOR))
        ).status_code == 403
        with caplog.at_level(logging.ERROR, logger="yiwang_management.payment.service"):
            run = await client.post(f"/payments/reconciliations/{day}", headers=auth(SUPERVISOR))
        assert run.status_code == 200, run.text
        record = run.json()
        assert (
            record["status"],
            record["matched"],
            record["missing_on_our_side"],
            record["missing_at_provider"],
            record["amount_mismatch"],
        ) == ("mismatched", 2, 1, 1, 1)
        assert (record["our_total_fen"], record["provider_total_fen"]) == (4000, 3900)
        kinds = {line["case_no"]: line["kind"] for line in record["lines"]}
        assert kinds == {
            cases[0]: "matched",
            cases[1]: "missing_on_our_side",
            cases[2]: "missing_at_provider",
            cases[3]: "amount_mismatch",
            cases[4]: "matched",
        }
        mismatch = next(line for line in record["lines"] if line["kind"] == "amount_mismatch")
        assert (mismatch["our_amount_fen"], mismatch["provider_amount_fen"]) == (1000, 900)
        logged = sorted(r.kind for r in caplog.records if r.getMessage() == "reconciliation mismatch")  # type: ignore[attr-defined]
        assert logged == ["amount_mismatch", "missing_at_provider", "missing_on_our_side"]
        # Supervision's list of days with differences.
        listed = (
            await client.get("/payments/reconciliations?status=mismatched", headers=auth(SUPERVISOR))
        ).json()
        assert [r["day"] for r in listed["items"]] == [day.isoformat()]
        # Run again: the day's record is replaced, not doubled.
        await client.post(f"/payments/reconciliations/{day}", headers=auth(SUPERVISOR))
        assert await scalar(sessionmaker, "SELECT count(*) FROM payment_reconciliation_line") == 5
        stored = (await client.get(f"/payments/reconciliations/{day}", headers=auth(SUPERVISOR))).json()
        assert stored["lines"][0]["kind"] != "matched"

    async def test_a_clean_day_balances(
        self, app: FastAPI, client: httpx.AsyncClient, case_no: str, item: str
    ) -> None:
        await set_fees(client, item, "before_acceptance")
        body, header, _ = await pay(app, client, case_no)
        await notify(client, body, header)
        day = local_date(utcnow())
        record = (await client.post(f"/payments/reconciliations/{day}", headers=auth(SUPERVISOR))).json()
        assert (record["status"], record["matched"], record["status_name"]) == ("balanced", 1, "账实相符")
        empty = (
            await client.post(
                f"/payments/reconciliations/{day - timedelta(days=1)}", headers=auth(SUPERVISOR)
            )
        ).json()
        assert (empty["status"], empty["lines"]) == ("balanced", [])


class TestDelivery:
    async def test_payment_after_the_decision_holds_the_result_and_the_window_hands_it_over(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        case_no: str,
        item: str,
        handlers: CaseEventHandlers,
        calendar: WorkingDayCalendar,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        await set_fees(client, item, "before_delivery")
        assert (await accept(client, case_no)).status_code == 200  # nothing due before acceptance
        chosen = await client.put(
            f"/cases/{case_no}/delivery", json={"method": "window"}, headers=auth(APPLICANT)
        )
        assert (chosen.status_code, chosen.json()["status"]) == (200, "awaiting_decision")
        early = await client.post(
            f"/cases/{case_no}/delivery/hand-over", json={"collected_by": "张三"}, headers=auth(DELIVERER)
        )
        assert (early.status_code, early.json()["code"]) == (409, "result_not_ready")
        decided_at = utcnow()
        await decide(sessionmaker, handlers, case_no, decided_at)
        view = (await client.get(f"/cases/{case_no}/delivery", headers=auth(APPLICANT))).json()
        expected_due = calendar.add_working_days(local_date(decided_at), 5)
        assert (view["status"], view["due_date"]) == ("ready", expected_due.isoformat())
        held = await client.post(
            f"/cases/{case_no}/delivery/hand-over", json={"collected_by": "张三"}, headers=auth(DELIVERER)
        )
        assert (held.status_code, held.json()["code"]) == (409, "payment_required")
        body, header, order = await pay(app, client, case_no)
        assert order["timing_name"] == "送达前缴费"
        await notify(client, body, header)
        handed = await client.post(
            f"/cases/{case_no}/delivery/hand-over", json={"collected_by": "张三"}, headers=auth(DELIVERER)
        )
        assert handed.status_code == 200, handed.text
        assert (handed.json()["status"], handed.json()["on_time"]) == ("delivered", True)
        assert [e["kind"] for e in handed.json()["events"]] == ["chosen", "ready", "picked_up"]
        async with sessionmaker() as session:
            [clock] = (
                await session.scalars(select(CaseStepClock).where(CaseStepClock.step_key == "delivery"))
            ).all()
            assert clock.ended_at is not None and clock.due_date == expected_due
        again = await client.post(
            f"/cases/{case_no}/delivery/hand-over", json={"collected_by": "张三"}, headers=auth(DELIVERER)
        )
        assert (again.status_code, again.json()["code"]) == (409, "delivery_closed")
        # 送达及时率: one result delivered, in time, for the department.
        today = local_date(utcnow())
        rate = (
            await client.get(
                f"/deliveries/statistics/on-time?from={today}&to={today}", headers=auth(SUPERVISOR)
            )
        ).json()
        assert rate["rows"] == [{"key": ORG_CODE, "delivered": 1, "on_time": 1, "on_time_rate": 1.0}]
        bad = await client.get(
            f"/deliveries/statistics/on-time?from={today}&to={today - timedelta(days=1)}",
            headers=auth(SUPERVISOR),
        )
        assert bad.status_code == 422

    async def test_post_with_tracking_number_and_events_until_signed_for(
        self,
        client: httpx.AsyncClient,
        case_no: str,
        handlers: CaseEventHandlers,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        no_address = await client.put(
            f"/cases/{case_no}/delivery", json={"method": "post"}, headers=auth(APPLICANT)
        )
        assert no_address.status_code == 422
        address = {
            "method": "post",
            "recipient_name": "张三",
            "recipient_phone": "13800138000",
            "address": "云南省玉溪市元江县澧江街道滨江花园3栋2单元501",
            "postcode": "653300",
        }
        chosen = (
            await client.put(f"/cases/{case_no}/delivery", json=address, headers=auth(APPLICANT))
        ).json()
        assert (chosen["recipient_name"], chosen["recipient_phone"]) == ("张*", "138****8000")
        assert (await accept(client, case_no)).status_code == 200
        await decide(sessionmaker, handlers, case_no, utcnow())
        assert (
            await client.post(
                f"/cases/{case_no}/delivery/hand-over", json={"collected_by": "张三"}, headers=auth(DELIVERER)
            )
        ).json()["code"] == "wrong_delivery_method"
        sent = (await client.post(f"/cases/{case_no}/delivery/dispatch", headers=auth(DELIVERER))).json()
        assert sent["status"] == "dispatched" and sent["tracking_no"].startswith("YWSB")
        late_change = await client.put(
            f"/cases/{case_no}/delivery", json={"method": "window"}, headers=auth(APPLICANT)
        )
        assert late_change.json()["code"] == "delivery_closed"
        for kind in ("in_transit", "out_for_delivery", "delivered"):
            r = await client.post(
                f"/cases/{case_no}/delivery/events",
                json={"kind": kind, "description": "顺路"},
                headers=auth(DELIVERER),
            )
            assert r.status_code == 200, r.text
        done = (await client.get(f"/cases/{case_no}/delivery", headers=auth(APPLICANT))).json()
        assert done["status"] == "delivered"
        assert [e["kind"] for e in done["events"]] == [
            "chosen",
            "ready",
            "dispatched",
            "in_transit",
            "out_for_delivery",
            "delivered",
        ]
        assert "滨江花园" not in str([e["description"] for e in done["events"]])

    async def test_the_delivery_limit_warns_yellow_then_red_once(
        self,
        client: httpx.AsyncClient,
        case_no: str,
        handlers: CaseEventHandlers,
        calendar: WorkingDayCalendar,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        assert (await accept(client, case_no)).status_code == 200
        decided_at = datetime.fromisoformat("2026-09-28T02:00:00+00:00")  # Mon 28 Sep, before National Day
        await decide(sessionmaker, handlers, case_no, decided_at)
        async with sessionmaker() as session:
            [clock] = (
                await session.scalars(select(CaseStepClock).where(CaseStepClock.step_key == "delivery"))
            ).all()
        # 29, 30 Sep, 8, 9 Oct, Sat 10 Oct (调休): five working days across the holiday.
        assert clock.due_date == date(2026, 10, 10)
        assert clock.warn_date == calendar.subtract_working_days(
            date(2026, 10, 10), SupervisionSettings().step_warn_days
        )

        async def raised(today: date, tick: int) -> list[tuple[str, str]]:
            await sweep(
                sessionmaker,
                tick=tick,
                calendar=calendar,
                defaults=SupervisionSettings(),
                source=SOURCE,
                worker="t",
                today=today,
            )
            async with sessionmaker() as session:
                rows = await session.execute(
                    select(SupervisionWarning.step_key, SupervisionWarning.level).where(
                        SupervisionWarning.step_key == "delivery"
                    )
                )
                return sorted((r[0], r[1]) for r in rows.all())

        assert await raised(clock.warn_date - timedelta(days=1), 1) == []
        assert await raised(clock.warn_date, 2) == [("delivery", "yellow")]
        assert await raised(date(2026, 10, 10), 3) == [("delivery", "yellow")]
        assert await raised(date(2026, 10, 11), 4) == [("delivery", "red"), ("delivery", "yellow")]
        assert await raised(date(2026, 10, 12), 5) == [("delivery", "red"), ("delivery", "yellow")]
        view = (await client.get(f"/cases/{case_no}/deadline", headers=auth(ACCEPTOR))).json()
        # The case's deadline view (the supervision board's source) shows the 送达 clock and its warnings.
        assert [c["step_key"] for c in view["steps"]] == ["delivery"]
        assert sorted(w["level"] for w in view["warnings"] if w["step_key"] == "delivery") == [
            "red",
            "yellow",
        ]


class TestDailyReconciliation:
    async def test_the_worker_reconciles_yesterday_once(
        self, app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        from yiwang_management.payment import service

        today = local_date(utcnow())
        first = await service.reconcile_previous_day(sessionmaker, provider=sandbox(app), today=today)
        again = await service.reconcile_previous_day(sessionmaker, provider=sandbox(app), today=today)
        assert first is not None and first.day == today - timedelta(days=1) and again is None
        assert await scalar(sessionmaker, "SELECT count(*) FROM payment_reconciliation") == 1


class TestSupervisionBoard:
    async def test_a_mismatched_day_is_on_the_supervision_board(
        self,
        app: FastAPI,
        client: httpx.AsyncClient,
        case_no: str,
        item: str,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        from yiwang_common.staff_session import COOKIE_NAME
        from yiwang_common.testing import token_issuer

        await set_fees(client, item, "before_acceptance")
        await pay(app, client, case_no)  # paid at the provider; never notified, never queried
        day = local_date(utcnow())
        await client.post(f"/payments/reconciliations/{day}", headers=auth(SUPERVISOR))
        pages = {}
        for who in (SUPERVISOR, ACCEPTOR):
            cookies = {COOKIE_NAME: token_issuer().issue(who)}
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://test", cookies=cookies
            ) as http:
                pages[who.sub] = (await http.get("/console/manage/supervision")).text
        board = pages[SUPERVISOR.sub]
        row = board.split('id="reconciliations"')[1]
        assert f"<td>{day}</td><td>sandbox</td><td>0</td><td>1</td><td>0</td><td>0</td>" in row
        assert 'id="reconciliations"' not in pages[ACCEPTOR.sub]
