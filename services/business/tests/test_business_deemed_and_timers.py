"""承诺超时默认 closes the business task once, whatever is redelivered; the step timers' worker
sweeps each tick exactly once across two workers (ADR 0113)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from business_testkit import APPROVER, REVIEWER, TakeOver, accepted, envelope, scalar
from nats.aio.client import Client as NatsClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from workflow_kit import define, linear, step, the_task

from yiwang_business.config import Settings
from yiwang_business.main import create_app
from yiwang_business.task.handlers import on_case_deemed_approved
from yiwang_business.task.worker import current_tick, sweep_tick
from yiwang_common.contracts.common import DecisionDocument, Organisation
from yiwang_common.contracts.management import CaseDeemedApproved
from yiwang_common.db import session_scope
from yiwang_common.events import make_event
from yiwang_common.events.outbox import serialize
from yiwang_common.testing import fresh_streams


async def eventually(
    sql: str, sessionmaker: async_sessionmaker[AsyncSession], want: Any, **params: Any
) -> Any:
    for _ in range(400):
        got = await scalar(sessionmaker, sql, **params)
        if got == want:
            return got
        await asyncio.sleep(0.05)
    return got


def deemed(case_no: str, application_id: uuid.UUID) -> CaseDeemedApproved:
    return CaseDeemedApproved(
        case_no=case_no,
        application_id=application_id,
        item_code="11530428015176456L2000109003000",
        due_date=date(2026, 12, 7),
        decision=DecisionDocument(
            document_no=f"超时默认〔2026〕{case_no}",
            title="准予行政许可决定书（承诺超时默认）",
            body="超过承诺办结期限，视为准予。",
            decided_at=datetime(2026, 12, 8, 1, 0, tzinfo=UTC),
            decider_name="承诺超时默认",
            org=Organisation(name="元江县住房和城乡建设局", code="11530428015176456L"),
        ),
        deemed_at=datetime(2026, 12, 8, 1, 0, tzinfo=UTC),
    )


class TestDeemedApproval:
    async def test_the_open_task_is_closed_once_through_the_bus_and_a_late_decision_is_refused(
        self,
        settings: Settings,
        nc: NatsClient,
        take_over: TakeOver,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        js = nc.jetstream()
        await fresh_streams(js, "management", "business")
        data = await take_over()
        app = create_app(settings.model_copy(update={"run_workers": True}))
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as live:
                review = await the_task(live, REVIEWER, data.case_no)
                event = make_event(
                    deemed(data.case_no, data.application_id),
                    source="urn:yiwang:530428:management",
                    subject=data.case_no,
                )
                # Redelivered (two message ids past JetStream's dedupe): the inbox drops the second.
                for msg_id in ("first", "again"):
                    await js.publish(
                        CaseDeemedApproved.subject,
                        serialize(event),
                        headers={"Nats-Msg-Id": f"{event.id}-{msg_id}"},
                    )
                status = "SELECT status FROM business_case WHERE case_no = :c"
                assert await eventually(status, sessionmaker, "decided", c=data.case_no) == "decided"
                # The same approval again with a new event id (a replay): the case is decided already.
                # The two deliveries of the first left one inbox row (the event's id).
                replay = deemed(data.case_no, data.application_id)
                async with session_scope(sessionmaker) as session:
                    await on_case_deemed_approved(session, envelope(data), replay)
                assert (
                    await scalar(
                        sessionmaker,
                        "SELECT count(*) FROM inbox WHERE consumer = 'business__management'",
                    )
                    == 1
                )
                rows = await scalar(
                    sessionmaker,
                    "SELECT json_agg(json_build_array(status, decision, handler_name)) FROM task WHERE case_no = :c",
                    c=data.case_no,
                )
                assert rows == [["done", "approve", "承诺超时默认"]]
                logs = "SELECT count(*) FROM case_log WHERE case_no = :c AND action = 'deemed_approval'"
                assert await scalar(sessionmaker, logs, c=data.case_no) == 1
                assert (
                    await scalar(
                        sessionmaker, "SELECT outcome FROM business_case WHERE case_no = :c", c=data.case_no
                    )
                    == "approved"
                )
                # The task is no longer anyone's to complete.
                done = await live.post(
                    f"/api/v1/tasks/{review['id']}/complete",
                    json={"decision": "approve", "opinion": "同意。"},
                    headers=REVIEWER,
                )
                assert done.status_code == 409, done.text
                assert (await live.get("/api/v1/tasks", headers=APPROVER)).json()["items"] == []

    async def test_an_unknown_case_is_ignored(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        data = accepted()
        async with session_scope(sessionmaker) as session:
            await on_case_deemed_approved(session, envelope(data), deemed(data.case_no, data.application_id))
        assert await scalar(sessionmaker, "SELECT count(*) FROM case_log") == 0


class TestTimerWorker:
    async def test_two_workers_sweep_a_tick_exactly_once(
        self,
        live: httpx.AsyncClient,
        take_over: TakeOver,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        await define(
            live,
            linear(
                step("review", "审查", time_limit_days=3, timer={"action": "remind"}),
                step("decide", "决定", "approver", "decide"),
            ),
        )
        first, second = await take_over(), await take_over()
        review = await the_task(live, REVIEWER, first.case_no)
        late = date.fromisoformat(review["step_due_date"]) + timedelta(days=1)
        tick = current_tick(60)

        results = await asyncio.gather(
            *(
                sweep_tick(sessionmaker, tick=tick, source="urn:test", worker=name, today=late)
                for name in ("worker-a", "worker-b")
            )
        )
        swept = [r for r in results if r is not None]
        assert len(swept) == 1 and swept[0].fired == 2
        # Later polls of the same tick (either worker, after a restart) find it done.
        assert (
            await sweep_tick(sessionmaker, tick=tick, source="urn:test", worker="worker-a", today=late)
            is None
        )
        assert await scalar(sessionmaker, "SELECT count(*) FROM timer_sweep WHERE tick = :t", t=tick) == 1
        assert await scalar(sessionmaker, "SELECT sum(reminders) FROM task WHERE step_key = 'review'") == 2
        # The next tick finds nothing left to fire (each timer fires once).
        nxt = await sweep_tick(sessionmaker, tick=tick + 1, source="urn:test", worker="worker-b", today=late)
        assert nxt is not None and nxt.fired == 0
        reminded = "SELECT count(*) FROM outbox WHERE subject = 'yiwang.business.task.reminded.v1'"
        assert await scalar(sessionmaker, reminded) == 2
        assert {first.case_no, second.case_no}
