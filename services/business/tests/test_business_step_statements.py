"""The cost of a case, pinned: statements per step, and the 决定 step draws its numbers in its completing statement."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench.workflow import HANDLERS, ORG, ORIGIN, PARALLEL, SEQUENTIAL, accepted
from yiwang_business.db import messaging
from yiwang_business.task.repository import _COMPLETE_AND_NUMBER
from yiwang_business.task.schemas import TaskComplete
from yiwang_business.task.service import task_service
from yiwang_business.workflow.schemas import WorkflowBody
from yiwang_business.workflow.service import workflow_service
from yiwang_common.db import session_scope
from yiwang_common.testing.architecture import StatementCounter

HANDLER = HANDLERS[ORG]
APPROVE = TaskComplete.model_validate({"decision": "approve", "opinion": "同意。"})


async def _run_case(
    sessionmaker: async_sessionmaker[AsyncSession], item: str, body: WorkflowBody
) -> tuple[list[list[str]], Any]:
    """Define ``item`` (once), then take one case over and complete every step; statements per unit of work."""
    async with session_scope(sessionmaker) as session:
        await workflow_service.put(session, item_code=item, body=body)
    async with session_scope(sessionmaker) as session:
        # The published snapshot is read once and reused for a few seconds (not counted).
        await workflow_service.cached_snapshot(session, item_code=item)
    engine = sessionmaker.kw["bind"]
    units: list[list[str]] = []
    with StatementCounter(engine) as counter:
        async with session_scope(sessionmaker) as session:
            opened = await task_service.take_over(session, accepted=accepted(item, 1))
        assert opened is not None
        units.append(list(counter.sent))
        todo = [t.id for t in opened]
        done: Any = None
        while todo:
            before = len(counter.sent)
            async with session_scope(sessionmaker) as session:
                done = await task_service.complete(
                    session, task_id=todo.pop(0), principal=HANDLER, body=APPROVE, origin=ORIGIN
                )
            units.append(counter.sent[before:])
            todo += [t.id for t in done.next_tasks]
    return units, done


async def _events(sessionmaker: async_sessionmaker[AsyncSession], case_no: str) -> list[dict[str, Any]]:
    async with session_scope(sessionmaker) as session:
        rows = (
            await session.execute(select(messaging.outbox.c.payload).order_by(messaging.outbox.c.seq))
        ).all()
    events = [orjson.loads(r[0]) for r in rows]
    return [e for e in events if e["subject"] == case_no]


class TestStepStatements:
    async def test_a_sequential_case_is_five_statements(
        self, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        units, done = await _run_case(sessionmaker, "BENCHSEQ", SEQUENTIAL)
        # Take-over: 1; each review step, a task this process wrote (ADR 0137): the completion with
        # the next task and the event; the decision: complete (with its numbers and the done steps)
        # + (decision, case, event).
        assert [len(u) for u in units] == [1, 1, 1, 2]
        assert done.case_status == "decided" and done.decision.document_no.endswith("第000001号")
        decided = (await _events(sessionmaker, done.task.case_no))[-1]
        assert decided["type"] == "cn.yiwang.business.case.decided.v1"
        assert [s["step_key"] for s in decided["data"]["steps"]] == ["review", "survey", "decide"]
        assert decided["data"]["decision"]["document_no"] == done.decision.document_no

    async def test_a_parallel_case_is_nine_statements(
        self, engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        units, done = await _run_case(sessionmaker, "BENCHPAR", PARALLEL)
        assert [len(u) for u in units] == [1, 2, 2, 2, 2]
        decided = (await _events(sessionmaker, done.task.case_no))[-1]
        assert [s["step_key"] for s in decided["data"]["steps"]] == ["planning", "fire", "safety", "decide"]
        # A second case of the same unit takes the next number: none was drawn on the other steps.
        _, again = await _run_case(sessionmaker, "BENCHPAR", PARALLEL)
        assert again.decision.document_no.endswith("第000002号")

    async def test_an_assisting_opinion_on_the_decide_step_draws_no_number(
        self, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        body = WorkflowBody.model_validate(
            {
                "steps": [
                    {"key": "review", "name": "审查", "role": "reviewer", "kind": "review"},
                    {
                        "key": "decide",
                        "name": "决定",
                        "role": "approver",
                        "kind": "decide",
                        "assists": [{"role": "reviewer"}],
                    },
                ],
                "decision_doc_prefix": "压测许",
                "licence_fields": {},
            }
        )
        async with session_scope(sessionmaker) as session:
            await workflow_service.put(session, item_code="BENCHAST", body=body)
        async with session_scope(sessionmaker) as session:
            opened = await task_service.take_over(session, accepted=accepted("BENCHAST", 1))
        assert opened is not None
        async with session_scope(sessionmaker) as session:
            await task_service.complete(
                session, task_id=opened[0].id, principal=HANDLER, body=APPROVE, origin=ORIGIN
            )
        async with session_scope(sessionmaker) as session:
            case = await task_service.case_view(
                session, case_no=opened[0].case_no, principal=HANDLER, source=ORIGIN.source
            )
        assist = next(t for t in case.tasks if t.kind == "assist")
        lead = next(t for t in case.tasks if t.step_key == "decide" and t.kind == "decide")
        async with session_scope(sessionmaker) as session:
            opinion = await task_service.complete(
                session, task_id=assist.id, principal=HANDLER, body=APPROVE, origin=ORIGIN
            )
        assert opinion.case_status == "in_progress" and opinion.decision is None
        async with session_scope(sessionmaker) as session:
            decided = await task_service.complete(
                session, task_id=lead.id, principal=HANDLER, body=APPROVE, origin=ORIGIN
            )
        assert decided.decision is not None and decided.decision.document_no.endswith("第000001号")
        assert uuid.UUID(str(decided.task.id)) == lead.id


async def test_completing_finds_the_task_by_its_primary_key_in_a_long_work_list(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    # A unit with 300 open tasks on tables not analyzed since they were emptied: the plan must not
    # go through ix_task_queue (org_code, status) and filter the whole work list on the id.
    async with session_scope(sessionmaker) as session:
        await workflow_service.put(session, item_code="BENCHSEQ", body=SEQUENTIAL)
    opened: list[Any] = []
    for i in range(300):
        async with session_scope(sessionmaker) as session:
            tasks = await task_service.take_over(session, accepted=accepted("BENCHSEQ", i))
        assert tasks is not None
        opened += tasks
    statement = _COMPLETE_AND_NUMBER.statement
    async with session_scope(sessionmaker) as session:
        conn = await session.connection()
        compiled = statement.compile(dialect=conn.dialect)
        params = {
            "task_id": opened[150].id,
            "key_org_code": ORG,
            "key_region_prefix": "530428",
            "roles": ["reviewer"],
            "new_status": "done",
            "new_completed_at": opened[150].created_at,
            "new_handler_id": "x",
            "new_handler_name": "y",
            "new_decision": "approve",
            "new_opinion": "同意。",
            "decision_period": "2026",
            "approve": False,
            "licence_scope": None,
            "licence_period": None,
        }
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        args = [compiled.construct_params(params)[name] for name in compiled.positiontup or ()]
        plan = await driver.fetchval("EXPLAIN (FORMAT JSON) " + compiled.string, *args)
    # The dialect decodes json on its asyncpg connections.
    nodes = _nodes(plan[0]["Plan"])
    # The first scan of task is the completing UPDATE's (the second reads the earlier steps).
    scan = next(n for n in nodes if n.get("Relation Name") == "task" and "Scan" in n["Node Type"])
    assert scan.get("Index Name") == "task_pkey", scan


def _nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for child in node.get("Plans", []) for n in _nodes(child))]


async def test_the_completing_statement_finds_its_case_by_primary_key_in_its_generic_plan(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    # A connection keeps a prepared statement's generic plan. Made while business_case looked
    # empty (a fresh database), a join on task.case_no = business_case.case_no was planned as a
    # scan of the whole table for the one case, run at every step from then on: 456 cases/s in the
    # first 1,000-case round of `make bench-workflow`, 298 in the third.
    sql = _COMPLETE_AND_NUMBER.statement.compile(dialect=sessionmaker.kw["bind"].dialect).string
    async with session_scope(sessionmaker) as session:
        raw = await (await session.connection()).get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        assert await driver.fetchval("SELECT count(*) FROM business_case") == 0
        # On the raw connection, outside the unit of work's transaction (not begun): reset below.
        await driver.execute("SET plan_cache_mode = force_generic_plan")
        parameters = len((await driver.prepare(sql)).get_parameters())
        await driver.execute("PREPARE completing AS " + sql)
        try:
            nulls = ", ".join(["NULL"] * parameters)
            plan = await driver.fetchval(f"EXPLAIN (FORMAT JSON) EXECUTE completing({nulls})")
        finally:
            await driver.execute("DEALLOCATE completing; RESET plan_cache_mode")
    nodes = _nodes(plan[0]["Plan"])
    cases = [n for n in nodes if n.get("Relation Name") == "business_case"]
    assert cases and all(n.get("Index Name") == "business_case_pkey" for n in cases), cases
    completing = next(n for n in nodes if n.get("Relation Name") == "task" and "Scan" in n["Node Type"])
    assert completing.get("Index Name") == "task_pkey", completing
