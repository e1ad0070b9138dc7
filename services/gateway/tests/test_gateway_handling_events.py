"""business's handling events on the applicant's timeline: only for applications the portal holds, in order."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
from gateway_cases import CASE_NO, T0, case_view, deliver, registered, submit_application
from gateway_support import Accounts, count, envelope

from yiwang_common.contracts.business import CaseReturned, CaseStepCompleted
from yiwang_common.contracts.common import Organisation, StepRecord
from yiwang_common.contracts.management import ItemPublished
from yiwang_common.db import session_scope
from yiwang_gateway.handling import events as handlers


def step_completed(app_id: uuid.UUID) -> CaseStepCompleted:
    return CaseStepCompleted(
        case_no=CASE_NO,
        application_id=app_id,
        step=StepRecord(
            step_key="review",
            step_name="审查",
            action="pass",
            handler_id="u-shencha",
            handler_name="审查员",
            started_at=T0,
            ended_at=T0 + timedelta(hours=1),
            org=Organisation(name="元江县住房和城乡建设局", code="11530428MB0000001X"),
        ),
        next_step_name="决定",
    )


def returned(app_id: uuid.UUID) -> CaseReturned:
    return CaseReturned(
        case_no=CASE_NO,
        application_id=app_id,
        from_step_name="决定",
        to_step_name="审查",
        to_applicant=False,
        reason="请复核图纸",
        handler_name="决定人",
    )


class TestHandlingTimeline:
    async def test_lines_only_for_held_applications_in_the_order_of_the_events(
        self,
        client: httpx.AsyncClient,
        accounts: Accounts,
        auth: Any,
        item: ItemPublished,
        sessionmaker: Any,
    ) -> None:
        headers = auth(accounts.zhangsan)
        app_id = await submit_application(client, headers)
        await deliver(sessionmaker, registered(app_id, accounts.zhangsan))
        before = await count(sessionmaker, "timeline_entry")
        step, back = step_completed(app_id), returned(app_id)
        stranger = step_completed(uuid.uuid4())
        envelopes = [envelope(e, subject=CASE_NO) for e in (step, stranger, back)]
        for _ in range(2):  # the second round replays the same events (same ids), bypassing the inbox
            async with session_scope(sessionmaker) as session:
                await handlers.on_step_completed(session, envelopes[0], step)
                # A case registered elsewhere: no line, no error, and the unit of work still commits.
                await handlers.on_step_completed(session, envelopes[1], stranger)
                await handlers.on_returned(session, envelopes[2], back)
        assert await count(sessionmaker, "timeline_entry") == before + 2
        lines = (await case_view(client, headers))["timeline"][-2:]
        assert [(t["title"], t["detail"]) for t in lines] == [
            ("环节已办理：审查", "元江县住房和城乡建设局：通过；下一环节：决定"),
            ("内部退回：决定 → 审查", "请复核图纸"),
        ]
