"""流程引擎 The built-in engine over stored definitions (ADR 0106).

A definition is a graph of steps (user tasks), gateways and flows. This module is pure: it checks
a definition and says which steps open next; the task service keeps the state (open tasks and
the join counters of parallel gateways) in PostgreSQL, one unit of work per command. A definition
without flows is the steps in order, which is also the hot path of most items: moving on is
``position + 1`` with no graph at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson

from yiwang_business.workflow.errors import InvalidWorkflow, NoBranchMatches
from yiwang_business.workflow.expression import ExpressionError, evaluate, parse
from yiwang_business.workflow.schemas import (
    END,
    START,
    Flow,
    Gateway,
    WorkflowBody,
    WorkflowSnapshot,
    WorkflowStep,
)

#: Most nodes one move may pass (gateways chained into gateways); more means a loop of gateways.
MAX_WALK = 500


@dataclass(frozen=True)
class Edge:
    """A compiled flow: where it goes, its condition (already parsed) and whether it is the default."""

    index: int
    target: str
    condition: str | None
    default: bool


@dataclass(frozen=True)
class Graph:
    """A definition compiled for running: steps, gateways, outgoing edges, incoming counts."""

    steps: dict[str, WorkflowStep]
    positions: dict[str, int]
    order: tuple[str, ...]
    gateways: dict[str, Gateway]
    outgoing: dict[str, tuple[Edge, ...]]
    incoming: dict[str, int]
    linear: bool

    def step(self, key: str) -> WorkflowStep:
        """The step of a key (a KeyError means a case's task is not in its definition)."""
        return self.steps[key]


@dataclass
class Move:
    """What completing a step leads to: steps to open and whether the process reached its end."""

    open: list[str] = field(default_factory=list)
    end: bool = False


#: Records a token's arrival at a parallel join; True when this arrival completes it.
Arrive = Callable[[str, int], Awaitable[bool]]


def _linear_flows(steps: Sequence[WorkflowStep]) -> list[Flow]:
    keys = [START, *(s.key for s in steps), END]
    return [Flow(source=a, target=b) for a, b in zip(keys, keys[1:], strict=False)]


def check(body: WorkflowBody) -> None:
    """Refuse a definition that cannot run; every problem names the JSON path of the bad element."""
    errors: list[dict[str, Any]] = []

    def bad(loc: Sequence[str | int], msg: str) -> None:
        errors.append({"loc": ["body", *loc], "msg": msg, "type": "invalid_workflow"})

    keys: dict[str, tuple[str, int]] = {}
    groups: tuple[tuple[str, Sequence[WorkflowStep | Gateway]], ...] = (
        ("steps", body.steps),
        ("gateways", body.gateways),
    )
    for kind, nodes in groups:
        for i, node in enumerate(nodes):
            if node.key in (START, END):
                bad([kind, i, "key"], f"{node.key} 为保留字 (reserved for the start and end of the process)")
            elif node.key in keys:
                bad([kind, i, "key"], f"key {node.key} 重复 (keys of steps and gateways must be unique)")
            else:
                keys[node.key] = (kind, i)
    if body.flows is None:
        if body.gateways:
            bad(["gateways"], "网关需要顺序流 (gateways need flows)")
        if body.steps[-1].kind != "decide":
            bad(
                ["steps", len(body.steps) - 1, "kind"],
                "最后一个环节必须是决定环节 (the last step must decide)",
            )
        for i, s in enumerate(body.steps[:-1]):
            if s.kind == "decide":
                bad(["steps", i, "kind"], "只有最后一个环节可以是决定环节 (only the last step may decide)")
        if errors:
            raise InvalidWorkflow(_detail(errors), errors=errors)
        return
    steps = {s.key: s for s in body.steps}
    gateways = {g.key: g for g in body.gateways}
    out: dict[str, list[tuple[int, Flow]]] = {}
    inc: dict[str, list[int]] = {}
    for i, f in enumerate(body.flows):
        if f.source == END or (f.source != START and f.source not in keys):
            bad(["flows", i, "source"], f"未知的起点 unknown source {f.source}")
            continue
        if f.target == START or (f.target != END and f.target not in keys):
            bad(["flows", i, "target"], f"未知的终点 unknown target {f.target}")
            continue
        if f.condition is not None:
            try:
                parse(f.condition)
            except ExpressionError as exc:
                bad(["flows", i, "condition"], f"条件无法解析 condition does not parse: {exc}")
        if f.default and (f.source not in gateways or gateways[f.source].type != "exclusive"):
            bad(
                ["flows", i, "default"],
                "只有排他网关的顺序流可以是默认分支 (only an exclusive gateway has a default)",
            )
        if f.default and f.condition is not None:
            bad(["flows", i, "condition"], "默认分支不带条件 (a default flow has no condition)")
        out.setdefault(f.source, []).append((i, f))
        inc.setdefault(f.target, []).append(i)
    if errors:
        raise InvalidWorkflow(_detail(errors), errors=errors)
    if len(out.get(START, [])) != 1:
        bad(["flows"], "开始事件必须恰好有一条顺序流 (exactly one flow leaves start)")
    for key, (kind, i) in keys.items():
        if not inc.get(key):
            bad([kind, i], f"{key} 没有进入的顺序流 (nothing flows into it)")
        if not out.get(key):
            bad([kind, i], f"{key} 没有离开的顺序流 (nothing flows out of it)")
    for key, flows in out.items():
        if key in gateways and gateways[key].type == "exclusive":
            defaults = [i for i, f in flows if f.default]
            if len(defaults) > 1:
                bad(["flows", defaults[1], "default"], f"网关 {key} 有多个默认分支 (more than one default)")
        if key in steps and steps[key].kind == "decide":
            for i, f in flows:
                if f.target != END:
                    bad(
                        ["flows", i, "target"],
                        f"决定环节 {key} 只能流向 end (a decide step flows to end only)",
                    )
    for i in inc.get(END, []):
        source = body.flows[i].source
        if source not in steps or steps[source].kind != "decide":
            bad(["flows", i, "source"], "只有决定环节可以流向 end (only a decide step flows to end)")
    if not inc.get(END):
        bad(["flows"], "没有到达 end 的顺序流 (no flow reaches end)")
    if errors:
        raise InvalidWorkflow(_detail(errors), errors=errors)
    reach = _reachable(START, out)
    for key, (kind, i) in keys.items():
        if key not in reach:
            bad([kind, i], f"{key} 从开始无法到达 (not reachable from start)")
    back = _reachable(
        END, {t: [(0, Flow(source=t, target=s)) for s in _sources(inc, body.flows, t)] for t in inc}
    )
    for key, (kind, i) in keys.items():
        if key not in back:
            bad([kind, i], f"{key} 无法到达 end (cannot reach end)")
    loop = _gateway_loop(gateways, out)
    if loop is not None:
        bad(
            ["gateways", keys[loop][1]],
            f"网关 {loop} 处于只有网关的循环中 (a loop of gateways without a step)",
        )
    if errors:
        raise InvalidWorkflow(_detail(errors), errors=errors)


def _sources(inc: Mapping[str, list[int]], flows: Sequence[Flow], target: str) -> list[str]:
    return [flows[i].source for i in inc.get(target, [])]


def _reachable(origin: str, out: Mapping[str, list[tuple[int, Flow]]]) -> set[str]:
    seen = {origin}
    todo = [origin]
    while todo:
        for _, f in out.get(todo.pop(), []):
            if f.target not in seen:
                seen.add(f.target)
                todo.append(f.target)
    return seen


def _gateway_loop(gateways: Mapping[str, Gateway], out: Mapping[str, list[tuple[int, Flow]]]) -> str | None:
    """A gateway on a cycle through gateways only, which would move a token forever."""
    for origin in gateways:
        todo = [f.target for _, f in out.get(origin, []) if f.target in gateways]
        seen: set[str] = set()
        while todo:
            key = todo.pop()
            if key == origin:
                return origin
            if key not in seen:
                seen.add(key)
                todo.extend(f.target for _, f in out.get(key, []) if f.target in gateways)
    return None


def _detail(errors: Sequence[Mapping[str, Any]]) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in errors[:5])


@lru_cache(maxsize=256)
def _compile(document: bytes) -> Graph:
    raw = orjson.loads(document)
    steps = [WorkflowStep.model_validate(s) for s in raw["steps"]]
    gateways = [Gateway.model_validate(g) for g in raw.get("gateways") or []]
    flows_raw = raw.get("flows")
    linear = flows_raw is None
    flows = _linear_flows(steps) if linear else [Flow.model_validate(f) for f in flows_raw]
    outgoing: dict[str, list[Edge]] = {}
    incoming: dict[str, int] = {}
    for i, f in enumerate(flows):
        outgoing.setdefault(f.source, []).append(Edge(i, f.target, f.condition, f.default))
        incoming[f.target] = incoming.get(f.target, 0) + 1
    return Graph(
        steps={s.key: s for s in steps},
        positions={s.key: i for i, s in enumerate(steps)},
        order=tuple(s.key for s in steps),
        gateways={g.key: g for g in gateways},
        outgoing={k: tuple(v) for k, v in outgoing.items()},
        incoming=incoming,
        linear=linear,
    )


@lru_cache(maxsize=256)
def _snapshot(document: bytes) -> WorkflowSnapshot:
    return WorkflowSnapshot.model_validate_json(document)


def snapshot_of(workflow: Mapping[str, Any]) -> WorkflowSnapshot:
    """Parse a case's stored snapshot; parsed snapshots are reused by content (treat them as read-only)."""
    return _snapshot(orjson.dumps(workflow, option=orjson.OPT_SORT_KEYS))


def compile_graph(workflow: Mapping[str, Any]) -> Graph:
    """Compile a stored definition (a case's snapshot); compiled graphs are reused by content."""
    doc = {"steps": workflow["steps"], "gateways": workflow.get("gateways"), "flows": workflow.get("flows")}
    # Keyed by content (orjson: a few microseconds), so a definition edited under the same version
    # number in another database never reuses a stale graph.
    return _compile(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS))


async def first_steps(graph: Graph, form: Mapping[str, Any]) -> list[str]:
    """The steps that open when a case starts."""

    async def no_join(_key: str, _need: int) -> bool:
        # A join before any step ran would wait for branches that do not exist yet.
        raise NoBranchMatches("并行网关在开始前无法汇聚 (a join cannot be reached before any step)")

    return (await advance(graph, START, form, no_join)).open


@dataclass(frozen=True)
class JoinAhead:
    """A move that only waits at one parallel join: ``opens`` open if this arrival completes it.

    Nothing opens while the join waits for other branches (the common branch → join shape).
    """

    gateway: str
    need: int
    opens: list[str]


async def join_ahead(graph: Graph, origin: str, form: Mapping[str, Any]) -> JoinAhead | None:
    """Look ahead of a finished step, without counting the arrival: a single join and its outcome.

    The engine is pure, so the walk is run twice with the join's answer given (last arrival or
    not); when both walks ask about the same single join, nothing opens unless it is the last
    arrival, and neither ends the process, the caller can count the arrival and open the
    steps behind the join in one statement. None for every other shape (no join, several
    joins, steps opening beside a join): the caller then counts arrivals as the walk meets them.
    """
    asked: list[list[tuple[str, int]]] = [[], []]

    def answer(i: int, value: bool) -> Arrive:
        async def arrive(gateway: str, need: int) -> bool:
            asked[i].append((gateway, need))
            return value

        return arrive

    last = await advance(graph, origin, form, answer(0, True))
    if len(asked[0]) != 1 or last.end:
        return None
    waiting = await advance(graph, origin, form, answer(1, False))
    if asked[1] != asked[0] or waiting.open or waiting.end:
        return None
    gateway, need = asked[0][0]
    return JoinAhead(gateway=gateway, need=need, opens=last.open)


async def advance(graph: Graph, origin: str, form: Mapping[str, Any], arrive: Arrive) -> Move:
    """Move a token out of ``origin`` (a finished step, or ``start``): the steps to open next.

    A step's or a parallel gateway's outgoing flows are all taken (those with a condition only
    when it holds); an exclusive gateway takes its first flow whose condition holds, else its
    default. A parallel gateway with several incoming flows is a join: it moves on only when
    ``arrive`` says the last branch has come in.
    """
    move = Move()
    budget = [MAX_WALK]
    await _out(graph, origin, form, arrive, move, budget)
    return move


async def _out(
    graph: Graph, key: str, form: Mapping[str, Any], arrive: Arrive, move: Move, budget: list[int]
) -> None:
    edges = graph.outgoing.get(key, ())
    gateway = graph.gateways.get(key)
    if gateway is not None and gateway.type == "exclusive":
        chosen = next((e for e in edges if not e.default and _holds(e, form)), None)
        chosen = chosen or next((e for e in edges if e.default), None)
        if chosen is None:
            raise NoBranchMatches(f"网关 {key} 没有满足条件的分支 (no branch of gateway {key} applies)")
        await _into(graph, chosen.target, form, arrive, move, budget)
        return
    taken = [e for e in edges if _holds(e, form)]
    if not taken:
        raise NoBranchMatches(f"{key} 之后没有满足条件的分支 (no flow out of {key} applies)")
    for edge in taken:
        await _into(graph, edge.target, form, arrive, move, budget)


async def _into(
    graph: Graph, key: str, form: Mapping[str, Any], arrive: Arrive, move: Move, budget: list[int]
) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise NoBranchMatches("流程在网关之间循环 (the process loops through gateways)")
    if key == END:
        move.end = True
        return
    if key in graph.steps:
        if key not in move.open:
            move.open.append(key)
        return
    gateway = graph.gateways[key]
    need = graph.incoming.get(key, 1)
    if gateway.type == "parallel" and need > 1 and not await arrive(key, need):
        return
    await _out(graph, key, form, arrive, move, budget)


def _holds(edge: Edge, form: Mapping[str, Any]) -> bool:
    return edge.condition is None or evaluate(edge.condition, form)
