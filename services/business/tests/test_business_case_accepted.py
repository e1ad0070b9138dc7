"""The CaseAccepted handler: taking cases over from management."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from business_testkit import ITEM, ORG, TakeOver, accepted, envelope, scalar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_business.db import messaging
from yiwang_business.task.handlers import management_subscription
from yiwang_business.task.models import BusinessCase, Task
from yiwang_business.workflow.models import WorkflowDefinition
from yiwang_common.config import NatsSettings
from yiwang_common.db import session_scope, utcnow
from yiwang_common.events import ConsumerRunner
from yiwang_common.events.consumer import _Parsed


async def tasks_of(sessionmaker: async_sessionmaker[AsyncSession], case_no: str) -> list[Task]:
    async with sessionmaker() as session:
        return list((await session.execute(select(Task).where(Task.case_no == case_no))).scalars())


class TestOnCaseAccepted:
    async def test_creates_case_with_snapshot_and_first_task(
        self, take_over: TakeOver, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        data = await take_over()
        async with sessionmaker() as session:
            case = await session.get(BusinessCase, data.case_no)
        assert case is not None
        assert (case.status, case.org_code, case.item_code, case.due_date) == (
            "in_progress",
            ORG,
            ITEM,
            data.due_date,
        )
        assert case.applicant["id_number"] == "530428199001011231"
        assert case.workflow["version"] == 0 and [s["key"] for s in case.workflow["steps"]] == [
            "review",
            "decide",
        ]
        [task] = await tasks_of(sessionmaker, data.case_no)
        assert (task.position, task.step_key, task.step_name, task.role, task.org_code, task.status) == (
            0,
            "review",
            "审查",
            "reviewer",
            ORG,
            "open",
        )

    async def test_second_event_for_same_case_is_ignored(
        self, take_over: TakeOver, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        data = await take_over()
        await take_over(data.model_copy(update={"item_name": "改名"}))
        assert await scalar(sessionmaker, "SELECT count(*) FROM business_case") == 1
        assert await scalar(sessionmaker, "SELECT item_name FROM business_case") == "建筑工程施工许可证核发"
        assert len(await tasks_of(sessionmaker, data.case_no)) == 1

    async def test_item_definition_is_snapshotted_and_later_edits_do_not_change_it(
        self, take_over: TakeOver, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        steps = [
            {"key": "survey", "name": "现场踏勘", "role": "reviewer", "kind": "review"},
            {"key": "decide", "name": "决定", "role": "approver", "kind": "decide"},
        ]
        async with session_scope(sessionmaker) as session:
            session.add(
                WorkflowDefinition(
                    item_code=ITEM,
                    version=3,
                    steps=steps,
                    decision_doc_prefix="元住建许",
                    licence_fields={},
                    updated_at=utcnow(),
                )
            )
        data = await take_over()
        async with session_scope(sessionmaker) as session:
            definition = await session.get(WorkflowDefinition, ITEM)
            assert definition is not None
            definition.steps = list(reversed(steps))
        [task] = await tasks_of(sessionmaker, data.case_no)
        assert (task.step_key, task.step_name) == ("survey", "现场踏勘")
        assert await scalar(sessionmaker, "SELECT workflow->>'version' FROM business_case") == "3"


class TestCaseAcceptedThroughInbox:
    async def test_same_envelope_delivered_twice_is_applied_once(
        self, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        runner = ConsumerRunner(None, sessionmaker, messaging.inbox, management_subscription, NatsSettings())  # type: ignore[arg-type]
        data = accepted()
        event = envelope(data)
        model, handler = management_subscription.by_subject[data.subject]
        msg: Any = SimpleNamespace(subject=data.subject)
        for _ in range(2):
            await runner._process([_Parsed(msg, event, model.model_validate(event.data), handler)])
        assert await scalar(sessionmaker, "SELECT count(*) FROM inbox") == 1
        assert await scalar(sessionmaker, "SELECT consumer FROM inbox") == "business__management"
        assert await scalar(sessionmaker, "SELECT count(*) FROM business_case") == 1
        assert await scalar(sessionmaker, "SELECT count(*) FROM task") == 1
