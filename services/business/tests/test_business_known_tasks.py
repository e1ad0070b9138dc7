"""Completing a task this process wrote is one statement, and only while the task and its case are as written (ADR 0137)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.workflow import HANDLERS, ORG, ORIGIN, SEQUENTIAL, accepted
from yiwang_business.db import messaging
from yiwang_business.task.errors import CaseNotRunning, TaskNotOpen, TaskRoleForbidden
from yiwang_business.task.known import KnownTasks
from yiwang_business.task.models import Task
from yiwang_business.task.schemas import TaskComplete
from yiwang_business.task.service import TaskService, task_service
from yiwang_business.workflow.service import workflow_service
from yiwang_common.auth import Principal
from yiwang_common.db import session_scope
from yiwang_common.testing.architecture import StatementCounter

ITEM = "BENCHSEQ"
HANDLER = HANDLERS[ORG]
APPROVE = TaskComplete.model_validate({"decision": "approve", "opinion": "同意。"})


async def _case(sessionmaker: async_sessionmaker[AsyncSession], service: TaskService, i: int = 1) -> Task:
    """A sequential case taken over by ``service``; its first task."""
    async with session_scope(sessionmaker) as session:
        await workflow_service.put(session, item_code=ITEM, body=SEQUENTIAL)
    async with session_scope(sessionmaker) as session:
        opened = await service.take_over(session, accepted=accepted(ITEM, i))
    assert opened is not None
    return opened[0]


async def _complete(
    sessionmaker: async_sessionmaker[AsyncSession],
    service: TaskService,
    task_id: uuid.UUID,
    principal: Principal = HANDLER,
) -> tuple[Any, list[str]]:
    engine = sessionmaker.kw["bind"]
    with StatementCounter(engine) as counter:
        async with session_scope(sessionmaker) as session:
            done = await service.complete(
                session, task_id=task_id, principal=principal, body=APPROVE, origin=ORIGIN
            )
    return done, list(counter.sent)


async def _outbox(sessionmaker: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
    async with session_scope(sessionmaker) as session:
        rows = await session.execute(select(messaging.outbox.c.payload).order_by(messaging.outbox.c.seq))
    return [orjson.loads(r[0]) for r in rows]


def _meaning(event: dict[str, Any]) -> dict[str, Any]:
    """What an event says, without what differs between two cases (ids, times, the 决定书)."""

    def step(record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if k not in ("started_at", "ended_at")}

    data = {k: v for k, v in event["data"].items() if k not in ("case_no", "application_id", "decision")}
    if "step" in data:
        data["step"] = step(data["step"])
    if "steps" in data:
        data["steps"] = [step(s) for s in data["steps"]]
    return {"type": event["type"], **data}


async def test_a_known_task_is_completed_in_one_statement_that_is_its_own_transaction(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    service = TaskService()
    first = await _case(sessionmaker, service)
    engine = sessionmaker.kw["bind"]
    async with session_scope(sessionmaker) as session:
        done = await service.complete(
            session, task_id=first.id, principal=HANDLER, body=APPROVE, origin=ORIGIN
        )
        # Committed before this unit of work ends: the statement was a transaction of its own.
        async with engine.connect() as other:
            status = await other.scalar(text("SELECT status FROM task WHERE id = :id"), {"id": first.id})
        assert status == "done"
    assert done.next_task is not None and done.next_task.step_key == "survey"
    assert done.task.handler_name == HANDLER.name and done.task.status == "done"


async def test_known_and_long_way_write_the_same_events(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async def run(service: TaskService, i: int) -> tuple[list[dict[str, Any]], list[int]]:
        task_id: uuid.UUID | None = (await _case(sessionmaker, service, i)).id
        statements = []
        before = len(await _outbox(sessionmaker))
        while task_id is not None:
            done, sent = await _complete(sessionmaker, service, task_id)
            statements.append(len(sent))
            task_id = done.next_task.id if done.next_task else None
        return [_meaning(e) for e in (await _outbox(sessionmaker))[before:]], statements

    known, known_statements = await run(TaskService(), 1)
    off = TaskService()
    off._known = KnownTasks(0)
    long_way, long_statements = await run(off, 2)
    assert known_statements == [1, 1, 2] and long_statements == [2, 2, 2]
    assert known == long_way
    assert [e["type"] for e in known] == [
        "cn.yiwang.business.case.step_completed.v1",
        "cn.yiwang.business.case.step_completed.v1",
        "cn.yiwang.business.case.decided.v1",
    ]


async def test_a_task_changed_since_goes_the_long_way_and_reads_it_as_it_is(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    service = TaskService()
    first = await _case(sessionmaker, service)
    async with session_scope(sessionmaker) as session:
        # Another replica moves the step's due date (a resumed clock, a 延期): a new row version.
        await session.execute(
            text("UPDATE task SET due_date = DATE '2030-01-02', reminders = 2 WHERE id = :id"),
            {"id": first.id},
        )
    done, sent = await _complete(sessionmaker, service, first.id)
    # The known statement found nothing to complete; then the completing read and the next task.
    assert len(sent) == 3
    assert done.task.step_due_date.isoformat() == "2030-01-02" and done.task.reminders == 2
    events = [e for e in await _outbox(sessionmaker) if e["subject"] == first.case_no]
    assert len(events) == 1 and events[0]["data"]["next_step_key"] == "survey"


async def test_a_change_in_the_same_transaction_as_the_take_over_is_seen(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    # A consumer handles a batch of events in one unit of work: a later event of the batch may change
    # a row the take-over just wrote. The new version has the same xmin; it lies elsewhere (ctid).
    service = TaskService()
    async with session_scope(sessionmaker) as session:
        await workflow_service.put(session, item_code=ITEM, body=SEQUENTIAL)
    async with session_scope(sessionmaker) as session:
        opened = await service.take_over(session, accepted=accepted(ITEM, 1))
        assert opened is not None
        await session.execute(text("UPDATE task SET reminders = 1 WHERE id = :id"), {"id": opened[0].id})
    done, sent = await _complete(sessionmaker, service, opened[0].id)
    assert len(sent) == 3 and done.task.reminders == 1


async def test_a_task_completed_elsewhere_is_not_completed_twice(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    here = TaskService()
    first = await _case(sessionmaker, here)
    await _complete(sessionmaker, TaskService(), first.id)  # another replica, which did not know it
    written = len(await _outbox(sessionmaker))
    with pytest.raises(TaskNotOpen):
        await _complete(sessionmaker, here, first.id)
    assert len(await _outbox(sessionmaker)) == written


async def test_a_withdrawn_case_and_another_post_get_their_errors(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    service = TaskService()
    first = await _case(sessionmaker, service, 1)
    async with session_scope(sessionmaker) as session:
        await session.execute(
            text("UPDATE business_case SET status = 'withdrawn' WHERE case_no = :c"), {"c": first.case_no}
        )
    with pytest.raises(CaseNotRunning):
        await _complete(sessionmaker, service, first.id)

    second = await _case(sessionmaker, service, 2)
    clerk = Principal(sub="clerk", name="窗口", kind="staff", roles=frozenset({"acceptor"}), org_code=ORG)
    with pytest.raises(TaskRoleForbidden):
        await _complete(sessionmaker, service, second.id, clerk)
    # The entry was spent; the reviewer's completion goes the long way and succeeds.
    done, sent = await _complete(sessionmaker, service, second.id)
    assert done.task.status == "done" and len(sent) == 2
    assert [e["type"] for e in await _outbox(sessionmaker) if e["subject"] == second.case_no] == [
        "cn.yiwang.business.case.step_completed.v1"
    ]


def test_known_tasks_keep_the_latest_and_give_each_once() -> None:
    known = KnownTasks(2)
    tasks = [Task(id=uuid.uuid4()) for _ in range(3)]
    case: Any = object()
    for t in tasks:
        known.put([(t, "1@(0,1)")], case, case_version="1@(0,2)")
    assert len(known) == 2
    assert known.take(tasks[0].id) is None
    entry = known.take(tasks[2].id)
    assert entry is not None and entry.task is tasks[2]
    assert known.take(tasks[2].id) is None
    off = KnownTasks(0)
    off.put([(t, "1@(0,1)") for t in tasks], case, case_version="1@(0,2)")
    assert len(off) == 0


async def test_the_service_of_the_process_is_sized_by_the_settings() -> None:
    assert task_service.known.size == 4096
