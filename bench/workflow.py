"""``make bench-workflow``: cases/s through the built-in engine next to SpiffWorkflow 3.2, both persisted.

Two processes, each run by both engines in the same run, against the same PostgreSQL database:

- sequential: start → 审查 → 现场踏勘 → 决定 → end (three user tasks);
- parallel: start → fork → three branches (规划, 消防, 安全) → join → 决定 → end (four user tasks).

Built-in: the business service's own code path (``TaskService.take_over`` for CaseAccepted, then
``TaskService.complete`` per step), on a database migrated with business's migrations; every command
is its own unit of work (one transaction), with its outbox rows, and the 决定 step really decides
(决定书 number, decision row, CaseDecided event).

SpiffWorkflow 3.2 (dev dependency only): the same two processes as BPMN, parsed once; a new
instance is serialised (``BpmnWorkflowSerializer``) and inserted; each step loads the JSON under a
row lock, deserialises, runs the ready user task and the engine steps, serialises and updates, in
its own transaction: as many units of work per instance as the built-in engine's (one to store it,
one per user task), and its statements run on the same driver path (``DriverStatement``). Spiff
writes no outbox and issues no decision: it does strictly less. "Spiff kept" is Spiff given the
built-in engine's shortcut for a task it wrote (ADR 0137): the instance stays in memory and each
step is one version-checked ``UPDATE``, its own transaction.

Both engines run ``--concurrency`` workers in one process and event loop over the same SQLAlchemy
async engine. Writes ``bench/results/workflow.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Text, column, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench.e2e import LOCAL_SOCKET, LOCAL_SOCKET_URL
from yiwang_business.config import Settings
from yiwang_business.models import load_all_models
from yiwang_business.task.schemas import TaskComplete
from yiwang_business.task.service import Origin, task_service
from yiwang_business.workflow.schemas import WorkflowBody
from yiwang_business.workflow.service import workflow_service
from yiwang_common.auth import Principal
from yiwang_common.contracts.management import CaseAccepted
from yiwang_common.db import create_engine, create_sessionmaker, session_scope
from yiwang_common.db.driver import DriverStatement
from yiwang_common.migrations import upgrade_database
from yiwang_common.testing import create_database, drop_database

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
MIGRATIONS = ROOT / "services" / "business" / "src" / "yiwang_business" / "migrations"
ORG = "11530428015176456L"
SEQ_ITEM, PAR_ITEM = "BENCHSEQ", "BENCHPAR"
ORIGIN = Origin(source="urn:yiwang:530428:business", region_code="530428")
#: Implementing bodies the cases spread over (``--orgs``): each numbers its own 决定书, under a row lock.
ORGS = [ORG, *(f"1153042801517{n:04d}X" for n in range(1, 32))]
HANDLERS = {
    org: Principal(
        sub="bench",
        name="压测",
        kind="staff",
        roles=frozenset({"reviewer", "acceptor", "deliverer", "approver"}),
        org_code=org,
    )
    for org in ORGS
}
APPROVE: dict[str, Any] = {"decision": "approve", "opinion": "同意。"}
SETTINGS: dict[str, Any] = {"decision_doc_prefix": "压测许", "licence_fields": {}}


def _step(key: str, name: str, role: str, kind: str = "review") -> dict[str, Any]:
    return {"key": key, "name": name, "role": role, "kind": kind}


SEQUENTIAL = WorkflowBody.model_validate(
    {
        "steps": [
            _step("review", "审查", "reviewer"),
            _step("survey", "现场踏勘", "reviewer"),
            _step("decide", "决定", "approver", "decide"),
        ],
        **SETTINGS,
    }
)
PARALLEL = WorkflowBody.model_validate(
    {
        "steps": [
            _step("planning", "规划审查", "reviewer"),
            _step("fire", "消防审查", "acceptor"),
            _step("safety", "安全审查", "deliverer"),
            _step("decide", "决定", "approver", "decide"),
        ],
        "gateways": [{"key": "fork", "type": "parallel"}, {"key": "join", "type": "parallel"}],
        "flows": [
            {"source": "start", "target": "fork"},
            *({"source": "fork", "target": k} for k in ("planning", "fire", "safety")),
            *({"source": k, "target": "join"} for k in ("planning", "fire", "safety")),
            {"source": "join", "target": "decide"},
            {"source": "decide", "target": "end"},
        ],
        **SETTINGS,
    }
)

NS = 'xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" targetNamespace="bench"'
SPIFF_SEQUENTIAL = f"""<definitions {NS}><process id="sequential" isExecutable="true">
<startEvent id="start"/><userTask id="review"/><userTask id="survey"/><userTask id="decide"/><endEvent id="end"/>
<sequenceFlow id="f1" sourceRef="start" targetRef="review"/><sequenceFlow id="f2" sourceRef="review" targetRef="survey"/>
<sequenceFlow id="f3" sourceRef="survey" targetRef="decide"/><sequenceFlow id="f4" sourceRef="decide" targetRef="end"/>
</process></definitions>"""
SPIFF_PARALLEL = f"""<definitions {NS}><process id="parallel" isExecutable="true">
<startEvent id="start"/><parallelGateway id="fork"/><userTask id="planning"/><userTask id="fire"/>
<userTask id="safety"/><parallelGateway id="join"/><userTask id="decide"/><endEvent id="end"/>
<sequenceFlow id="f1" sourceRef="start" targetRef="fork"/>
<sequenceFlow id="f2" sourceRef="fork" targetRef="planning"/><sequenceFlow id="f3" sourceRef="fork" targetRef="fire"/>
<sequenceFlow id="f4" sourceRef="fork" targetRef="safety"/><sequenceFlow id="f5" sourceRef="planning" targetRef="join"/>
<sequenceFlow id="f6" sourceRef="fire" targetRef="join"/><sequenceFlow id="f7" sourceRef="safety" targetRef="join"/>
<sequenceFlow id="f8" sourceRef="join" targetRef="decide"/><sequenceFlow id="f9" sourceRef="decide" targetRef="end"/>
</process></definitions>"""


def accepted(item_code: str, i: int, org: str = ORG) -> CaseAccepted:
    case_no = f"530428{item_code[-3:]}{uuid.uuid4().int % 10**12:012d}"
    return CaseAccepted.model_validate(
        {
            "case_no": case_no,
            "application_id": str(uuid.uuid4()),
            "item_code": item_code,
            "item_name": "建筑工程施工许可证核发",
            "implementing_org": {"name": "元江县住房和城乡建设局", "code": org},
            "applicant": {
                "account_id": f"bench{i}",
                "name": "张三",
                "kind": "natural_person",
                "id_type": "111",
                "id_number": "530428199001011231",
            },
            "form": {"工程名称": f"压测工程 {i}", "建设面积": 1000 + i},
            "materials": [],
            "acceptance_notice_no": f"压测受〔2026〕{i}号",
            "handler_name": "窗口",
            "accepted_at": datetime.now(UTC).isoformat(),
            "clock_start": date.today().isoformat(),
            "promised_limit_days": 10,
            "due_date": date.today().isoformat(),
            "statutory_due_date": date.today().isoformat(),
            "step": {
                "step_key": "accept",
                "step_name": "受理",
                "action": "pass",
                "handler_id": "chuangkou",
                "handler_name": "窗口",
                "started_at": datetime.now(UTC).isoformat(),
                "ended_at": datetime.now(UTC).isoformat(),
                "org": {"name": "元江县住房和城乡建设局", "code": org},
            },
        }
    )


def inputs(item_code: str, n: int, orgs: int) -> dict[int, CaseAccepted]:
    """The CaseAccepted events of one round (and its warm-up), made before it is timed: the
    engines are measured from their input on, as Spiff's is its parsed process."""
    return {i: accepted(item_code, i, ORGS[i % orgs]) for i in range(-min(20, n), n)}


async def builtin_case(
    sessions: async_sessionmaker[AsyncSession], cases: dict[int, CaseAccepted], i: int
) -> None:
    """Case ``i`` of ``cases`` from CaseAccepted to the decision, each command its own transaction."""
    data = cases[i]
    async with session_scope(sessions) as session:
        opened = await task_service.take_over(session, accepted=data)
    assert opened is not None
    todo = [t.id for t in opened]
    handler = HANDLERS[data.implementing_org.code]
    body = TaskComplete.model_validate(APPROVE)
    while todo:
        task_id = todo.pop(0)
        async with session_scope(sessions) as session:
            done = await task_service.complete(
                session, task_id=task_id, principal=handler, body=body, origin=ORIGIN
            )
        todo += [t.id for t in done.next_tasks]
    assert done.case_status == "decided", done


#: Spiff's statements, on the same driver path as the built-in engine's (``DriverStatement``: the
#: unit of work's asyncpg connection, prepared once), so the comparison is of the engines, not of
#: two ways of talking to PostgreSQL.
_SPIFF_INSERT = DriverStatement(
    text("INSERT INTO bench_spiff_instance (id, state, completed) VALUES (:id, :state, false)")
)
_SPIFF_LOAD = DriverStatement(
    text("SELECT state FROM bench_spiff_instance WHERE id = :id FOR UPDATE").columns(column("state", Text))
)
_SPIFF_SAVE = DriverStatement(
    text("UPDATE bench_spiff_instance SET state = :state, completed = :done WHERE id = :id")
)

_SPIFF_INSERT_KEPT = DriverStatement(
    text(
        "INSERT INTO bench_spiff_instance (id, state, completed) VALUES (:id, :state, false)"
        " RETURNING xmin::text AS version"
    ).columns(column("version", Text))
)
_SPIFF_SAVE_KEPT = DriverStatement(
    text(
        "UPDATE bench_spiff_instance SET state = :state, completed = :done"
        " WHERE id = :id AND xmin::text = :version RETURNING xmin::text AS version"
    ).columns(column("version", Text))
)


def _run_ready(workflow: BpmnWorkflow, instance: uuid.UUID) -> None:
    """Complete the instance's ready user task (approved) and run the engine steps after it."""
    ready = workflow.get_tasks(state=TaskState.READY, manual=True)
    if not ready:
        raise RuntimeError(f"Spiff instance {instance} waits with no ready user task")
    ready[0].data.update(APPROVE)
    ready[0].run()
    workflow.do_engine_steps()


class Spiff:
    """SpiffWorkflow 3.2 with its workflow JSON stored per instance, one transaction per step."""

    def __init__(self, xml: str, process_id: str) -> None:
        parser = BpmnParser()
        parser.add_bpmn_str(xml.encode())
        self.spec: BpmnProcessSpec = parser.get_spec(process_id)
        self.serializer = BpmnWorkflowSerializer()

    async def case(self, sessions: async_sessionmaker[AsyncSession], _i: int) -> None:
        """One instance: stored new, then one transaction per user task (load, run, store)."""
        workflow = BpmnWorkflow(self.spec)
        workflow.do_engine_steps()
        instance = uuid.uuid4()
        async with session_scope(sessions) as session:
            await _SPIFF_INSERT.execute(
                session, {"id": instance, "state": self.serializer.serialize_json(workflow)}
            )
        # As many units of work as the process has user tasks, as the built-in engine: the one
        # that completes the last task stores the finished instance, and nothing is read after it.
        while not workflow.is_completed():
            async with session_scope(sessions) as session:
                (row,) = await _SPIFF_LOAD.fetch(session, {"id": instance})
                workflow = self.serializer.deserialize_json(row[0])
                _run_ready(workflow, instance)
                await _SPIFF_SAVE.execute(
                    session,
                    {
                        "id": instance,
                        "state": self.serializer.serialize_json(workflow),
                        "done": workflow.is_completed(),
                    },
                )

    async def kept(self, sessions: async_sessionmaker[AsyncSession], _i: int) -> None:
        """One instance kept in memory as written: each user task one version-checked ``UPDATE``.

        Spiff given what the built-in engine does for a task it wrote (ADR 0137): no load, no
        deserialisation, no transaction around the single statement. Its ``UPDATE`` holds only if
        the row is still the version written, as the built-in engine's does.
        """
        workflow = BpmnWorkflow(self.spec)
        workflow.do_engine_steps()
        instance = uuid.uuid4()
        async with session_scope(sessions) as session:
            ((version,),) = await _SPIFF_INSERT_KEPT.fetch(
                session, {"id": instance, "state": self.serializer.serialize_json(workflow)}
            )
        while not workflow.is_completed():
            _run_ready(workflow, instance)
            async with session_scope(sessions) as session:
                rows = await _SPIFF_SAVE_KEPT.fetch(
                    session,
                    {
                        "id": instance,
                        "state": self.serializer.serialize_json(workflow),
                        "done": workflow.is_completed(),
                        "version": version,
                    },
                    alone=True,
                )
            if not rows:
                raise RuntimeError(f"Spiff instance {instance} changed under its holder")
            ((version,),) = rows


async def rate(
    label: str,
    one: Callable[[int], Awaitable[None]],
    n: int,
    concurrency: int,
) -> float:
    """Cases per second of ``n`` cases run by ``concurrency`` workers (after a short warm-up)."""
    for i in range(min(20, n)):
        await one(-1 - i)
    queue = iter(range(n))

    async def worker() -> None:
        for i in queue:
            await one(i)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    value = n / elapsed
    print(f"  {label:<24} {n} cases in {elapsed:6.2f} s = {value:8.1f} cases/s", flush=True)
    return value


async def run(args: argparse.Namespace) -> dict[str, Any]:
    load_all_models()
    # The machine's PostgreSQL through its Unix socket where there is one, as bench-e2e does.
    if "TEST_DATABASE_URL" not in os.environ and Path(LOCAL_SOCKET).exists():
        os.environ["TEST_DATABASE_URL"] = LOCAL_SOCKET_URL
    url = await create_database("yiwang_bench_workflow")
    engine: AsyncEngine | None = None
    try:
        database = Settings(database={"url": url, "schema_name": "business"}).database
        await upgrade_database(database, MIGRATIONS)
        engine = create_engine(database.model_copy(update={"pool_size": max(args.concurrency, 2)}))
        sessions = create_sessionmaker(engine)
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "CREATE TABLE bench_spiff_instance (id uuid PRIMARY KEY, state text NOT NULL, completed bool)"
                )
            )
        async with session_scope(sessions) as session:
            await workflow_service.put(session, item_code=SEQ_ITEM, body=SEQUENTIAL)
            await workflow_service.put(session, item_code=PAR_ITEM, body=PARALLEL)
        spiff_seq = Spiff(SPIFF_SEQUENTIAL, "sequential")
        spiff_par = Spiff(SPIFF_PARALLEL, "parallel")
        results: dict[str, float] = {}
        # Interleaved rounds, so that a noisy neighbour on the shared machine hits both engines alike.
        names = ("seq", "par", "spiff_seq", "spiff_par", "spiff_kept_seq", "spiff_kept_par")
        rounds: dict[str, list[float]] = {k: [] for k in names}
        for r in range(args.rounds):
            print(f"round {r + 1}/{args.rounds}", flush=True)
            sequential = inputs(SEQ_ITEM, args.n, args.orgs)
            parallel = inputs(PAR_ITEM, args.n, args.orgs)
            rounds["seq"].append(
                await rate(
                    "built-in sequential",
                    partial(builtin_case, sessions, sequential),
                    args.n,
                    args.concurrency,
                )
            )
            rounds["spiff_seq"].append(
                await rate(
                    "spiff sequential", lambda i: spiff_seq.case(sessions, i), args.n, args.concurrency
                )
            )
            rounds["par"].append(
                await rate(
                    "built-in parallel",
                    partial(builtin_case, sessions, parallel),
                    args.n,
                    args.concurrency,
                )
            )
            rounds["spiff_par"].append(
                await rate("spiff parallel", lambda i: spiff_par.case(sessions, i), args.n, args.concurrency)
            )
            rounds["spiff_kept_seq"].append(
                await rate(
                    "spiff kept sequential", partial(spiff_seq.kept, sessions), args.n, args.concurrency
                )
            )
            rounds["spiff_kept_par"].append(
                await rate("spiff kept parallel", partial(spiff_par.kept, sessions), args.n, args.concurrency)
            )
        # The median round of each: robust to one disturbed round.
        for key, values in rounds.items():
            results[key] = sorted(values)[len(values) // 2]
        return {
            "sequential_cases_per_s": round(results["seq"], 1),
            "parallel_cases_per_s": round(results["par"], 1),
            "spiff_sequential_per_s": round(results["spiff_seq"], 1),
            "spiff_parallel_per_s": round(results["spiff_par"], 1),
            "sequential_ratio": round(results["seq"] / results["spiff_seq"], 2),
            "parallel_ratio": round(results["par"] / results["spiff_par"], 2),
            # Spiff given the built-in engine's known-task shortcut (ADR 0137): see Spiff.kept.
            "spiff_kept_sequential_per_s": round(results["spiff_kept_seq"], 1),
            "spiff_kept_parallel_per_s": round(results["spiff_kept_par"], 1),
            "sequential_ratio_to_kept": round(results["seq"] / results["spiff_kept_seq"], 2),
            "parallel_ratio_to_kept": round(results["par"] / results["spiff_kept_par"], 2),
            "rounds": {k: [round(v, 1) for v in vs] for k, vs in rounds.items()},
            "n_per_round": args.n,
            "concurrency": args.concurrency,
            "orgs": args.orgs,
            "processes": {
                "sequential": "start → 审查 → 现场踏勘 → 决定 → end",
                "parallel": "start → fork → 规划/消防/安全 → join → 决定 → end",
            },
            "method": (
                "one process, one event loop, one SQLAlchemy async engine on the machine's PostgreSQL; "
                "built-in = TaskService.take_over + TaskService.complete per step (its own unit of work with its "
                "outbox row; a step of a task the process wrote is one statement, ADR 0137; the decision on the "
                "last step); spiff = SpiffWorkflow 3.2 workflow JSON per instance, row-locked, "
                "deserialised, run, serialised and updated per user task in its own transaction, statements on the same "
                "DriverStatement path; spiff kept = the instance kept in memory as written, each user task one "
                "version-checked UPDATE as its own transaction; median of rounds"
            ),
            "host": {
                "machine": platform.machine(),
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
            },
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    finally:
        if engine is not None:
            await engine.dispose()
        await drop_database(url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="cases per engine, process and round")
    parser.add_argument("--concurrency", type=int, default=8, help="workers per engine")
    parser.add_argument(
        "--orgs",
        type=int,
        default=8,
        choices=range(1, 33),
        metavar="1..32",
        help="implementing bodies the cases spread over",
    )
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the median is reported")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "workflow.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k.endswith(("_per_s", "_ratio"))}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
