"""联办 across three departments, one of them on its own system through the plug-in contract (ADR 0112).

Management and business run in-process with their workers over real PostgreSQL and NATS JetStream;
management is served on a real port because the reference external system
(``libs/sdk/examples/reference_system.py``) runs as a separate process and knows only yiwang-sdk.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from nats.aio.client import Client as NatsClient
from sqlalchemy import text

import yiwang_business
import yiwang_management
from yiwang_business.config import Settings as BusinessSettings
from yiwang_business.main import create_app as create_business
from yiwang_common.auth import Principal
from yiwang_common.checkdigits import uscc_check
from yiwang_common.config import DatabaseSettings
from yiwang_common.db import session_scope
from yiwang_common.migrations import upgrade_database
from yiwang_common.testing import (
    bearer,
    create_database,
    drop_database,
    ephemeral_auth,
    fresh_streams,
    nats_url,
)
from yiwang_management.config import Settings as ManagementSettings
from yiwang_management.db import messaging
from yiwang_management.demo_items import demo_items
from yiwang_management.item.service import publish_item
from yiwang_management.main import create_app as create_management
from yiwang_management.supervision.sweep import sweep

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "libs" / "sdk" / "examples" / "reference_system.py"


def _uscc(serial: str) -> str:
    first = "11530428" + serial
    return first + uscc_check(first)


HOUSING, PLANNING, MARKET = _uscc("000000101"), _uscc("000000102"), _uscc("000000103")
DEPARTMENTS = {
    HOUSING: "元江县住房和城乡建设局",
    PLANNING: "元江县自然资源局",
    MARKET: "元江县市场监督管理局",
}
ITEMS = {org: f"{org}2000109003000" for org in DEPARTMENTS}
APPLICANT = {
    "account_id": "acct-joint-zhang",
    "name": "张三",
    "kind": "natural_person",
    "id_type": "111",
    "id_number": "530428199001011231",
}


def staff(org: str, *roles: str, sub: str = "") -> dict[str, str]:
    return bearer(
        Principal(
            sub=sub or f"staff-{org[-4:]}-{'-'.join(roles)}",
            name="工作人员",
            kind="staff",
            roles=frozenset(roles),
            org_code=org,
            region="530428",
        )
    )


def applicant_auth() -> dict[str, str]:
    """The applicant's bearer header, signed when used: a module-level token would expire (300 s)
    before the later tests of a long suite run."""
    return bearer(Principal(sub=APPLICANT["account_id"], name="张三", kind="natural_person"))


def admin() -> dict[str, str]:
    """An administrator's bearer header, signed when used."""
    return bearer(
        Principal(sub="admin", name="管理员", kind="staff", roles=frozenset({"admin"}), region="530428")
    )


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 60.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        assert asyncio.get_running_loop().time() < deadline, "the change did not arrive in time"
        await asyncio.sleep(0.1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _database(service: str, package: Any) -> str:
    url = await create_database(f"yiwang_test_joint_{service}")
    await upgrade_database(
        DatabaseSettings(url=url, schema_name=service), Path(package.__file__).parent / "migrations"
    )
    return url


class Stack:
    def __init__(
        self, management: Any, base_url: str, http: httpx.AsyncClient, business: httpx.AsyncClient
    ) -> None:
        self.management = management
        self.base_url = base_url
        self.http = http
        self.business = business
        self.processes: list[subprocess.Popen[bytes]] = []

    def start_external(
        self, client_id: str, secret: str, journal: Path, *extra: str
    ) -> subprocess.Popen[bytes]:
        env = {**os.environ, "YIWANG_PLUGIN_SECRET": secret}
        process = subprocess.Popen(
            [
                sys.executable,
                str(REFERENCE),
                "--base-url",
                self.base_url,
                "--client-id",
                client_id,
                "--journal",
                str(journal),
                "--poll-seconds",
                "0.1",
                *extra,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            # The system's log, next to its journal, for when a test fails.
            stderr=journal.with_suffix(".log").open("ab"),
        )
        self.processes.append(process)
        return process

    async def stop(self, process: subprocess.Popen[bytes]) -> None:
        process.terminate()
        await asyncio.to_thread(process.wait, 30)


@pytest.fixture
async def stack(nc: NatsClient) -> AsyncIterator[Stack]:
    await fresh_streams(nc.jetstream(), "management", "business")
    urls = {
        "management": await _database("management", yiwang_management),
        "business": await _database("business", yiwang_business),
    }
    common: dict[str, Any] = {"nats": {"url": nats_url()}, "run_workers": True, "auth": ephemeral_auth()}
    management = create_management(
        ManagementSettings(database=DatabaseSettings(url=urls["management"]), **common)
    )
    business = create_business(
        BusinessSettings(database={"url": urls["business"], "schema_name": "business"}, **common)
    )
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(management, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    try:
        async with management.router.lifespan_context(management), business.router.lifespan_context(business):
            async with session_scope(management.state.sessionmaker) as session:
                base = demo_items()[0]
                for org, name in DEPARTMENTS.items():
                    item = base.model_copy(
                        update={
                            "item_code": ITEMS[org],
                            "implementing_org": base.implementing_org.model_copy(
                                update={"code": org, "name": name}
                            ),
                        }
                    )
                    await publish_item(session, item, source="urn:yiwang:530428:management")
            serving = asyncio.create_task(server.serve())
            await eventually(lambda: asyncio.sleep(0, server.started))
            base_url = f"http://127.0.0.1:{port}"
            async with (
                httpx.AsyncClient(base_url=base_url + "/api/v1") as http,
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=business), base_url="http://b/api/v1"
                ) as biz,
            ):
                s = Stack(management, base_url, http, biz)
                try:
                    yield s
                finally:
                    for p in s.processes:
                        if p.poll() is None:
                            await s.stop(p)
                    server.should_exit = True
                    await serving
    finally:
        for url in urls.values():
            await drop_database(url)


async def _register(http: httpx.AsyncClient, org: str, item: str | None) -> dict[str, Any]:
    r = await http.post(
        "/plugin/systems",
        json={
            "name": f"{DEPARTMENTS[org]}审批系统",
            "department_code": org,
            "department_name": DEPARTMENTS[org],
        },
        headers=admin(),
    )
    assert r.status_code == 201, r.text
    system: dict[str, Any] = r.json()
    if item is not None:
        r = await http.put(
            f"/plugin/items/{item}/handler",
            json={"handler": "external", "system_id": system["system_id"]},
            headers=admin(),
        )
        assert r.status_code == 200, r.text
    return system


async def _open(http: httpx.AsyncClient, **form: Any) -> dict[str, Any]:
    r = await http.post(
        "/joint-cases",
        json={
            "theme_name": "开办建设项目一件事",
            "item_codes": list(ITEMS.values()),
            "applicant": APPLICANT,
            "form": form,
            "materials": [],
        },
        headers=staff(HOUSING, "acceptor"),
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def _handle_builtin(stack: Stack, org: str, decision: str = "approve") -> None:
    """The department's staff work their part through the built-in workflow: 审查 then 决定."""
    for role in ("reviewer", "approver"):
        headers = staff(org, role)

        async def task(headers: dict[str, str] = headers) -> Any:
            items = (await stack.business.get("/tasks", headers=headers)).json()["items"]
            return items[0] if items else None

        open_task = await eventually(task)
        body = {"decision": decision if role == "approver" else "approve", "opinion": "意见。"}
        r = await stack.business.post(f"/tasks/{open_task['id']}/complete", json=body, headers=headers)
        assert r.status_code == 200, r.text


async def _view(stack: Stack, joint_no: str) -> dict[str, Any]:
    r = await stack.http.get(f"/joint-cases/{joint_no}", headers=applicant_auth())
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def _completed(stack: Stack, joint_no: str) -> dict[str, Any] | None:
    view = await _view(stack, joint_no)
    return view if view["status"] == "completed" else None


async def _joint_events(stack: Stack) -> list[str]:
    async with session_scope(stack.management.state.sessionmaker) as session:
        rows = await session.execute(messaging.outbox.select())
        return [r.subject for r in rows]


@pytest.mark.slow
class TestJointApproval:
    async def test_three_departments_one_on_an_external_system(self, stack: Stack, tmp_path: Path) -> None:
        system = await _register(stack.http, MARKET, ITEMS[MARKET])
        stack.start_external(system["client_id"], system["client_secret"], tmp_path / "journal.json")
        case = await _open(stack.http)
        assert [p["handler"] for p in case["parts"]] == ["builtin", "builtin", "external"]
        assert "外部系统" in case["parts"][2]["waiting_on"]
        for org in (HOUSING, PLANNING):
            await _handle_builtin(stack, org)
        done = await eventually(lambda: _completed(stack, case["joint_no"]))
        assert done["outcome"] == "approved"
        assert done["notice_text"] is None
        assert [p["status"] for p in done["parts"]] == ["approved"] * 3
        assert done["parts"][2]["steps"] == 2
        assert (await _joint_events(stack)).count("yiwang.management.joint_case.completed.v1") == 1
        assert (await _joint_events(stack)).count("yiwang.management.joint_part.dispatched.v1") == 3
        # The window's case list and timeline carry the joint case with every department's steps.
        r = await stack.http.get(f"/cases/{case['joint_no']}", headers=staff(HOUSING, "acceptor"))
        assert r.status_code == 200, r.text
        names = [step["step_name"] for step in r.json()["steps"]]
        assert names[0] == "联办受理 (收件一次)"
        assert {n.split("·")[0] for n in names[1:]} == set(DEPARTMENTS.values())

    async def test_external_system_down_for_a_while(self, stack: Stack, tmp_path: Path) -> None:
        system = await _register(stack.http, MARKET, ITEMS[MARKET])
        journal = tmp_path / "journal.json"
        case = await _open(stack.http, refuse_items=[ITEMS[MARKET]])
        joint_no = case["joint_no"]
        for org in (HOUSING, PLANNING):
            await _handle_builtin(stack, org)
        await eventually(lambda: _two_decided(stack, joint_no))
        # The system is down: its part waits, dispatched and unacknowledged, and management shows on whom.
        waiting = (await _view(stack, joint_no))["parts"][2]
        assert waiting["status"] == "dispatched" and waiting["acked_at"] is None
        assert waiting["waiting_on"].endswith(system["name"])
        # Supervision sees the part's own limit run out: a red step warning on the joint case for that part.
        app = stack.management
        result = await sweep(
            app.state.sessionmaker,
            tick=1,
            calendar=app.state.calendar,
            defaults=app.state.settings.supervision,
            source="urn:yiwang:530428:management",
            worker="test",
            today=date.fromisoformat(waiting["due_date"]) + timedelta(days=1),
        )
        assert result is not None
        async with session_scope(app.state.sessionmaker) as session:
            rows = await session.execute(
                text(
                    "SELECT step_key, level, org_code, step_name FROM supervision_warning WHERE case_no = :c"
                ),
                {"c": joint_no},
            )
            warnings = rows.all()
        keys = {(w.step_key, w.level) for w in warnings}
        assert {w.org_code for w in warnings if w.step_key == waiting["part_no"]} == {MARKET}
        # ... on the supervision API: the part's clock runs, named after the system it waits on,
        r = await stack.http.get(f"/cases/{joint_no}/deadline", headers=staff(HOUSING, "supervisor"))
        assert r.status_code == 200, r.text
        [clock] = [c for c in r.json()["steps"] if c["step_key"] == waiting["part_no"]]
        assert clock["ended_at"] is None and system["name"] in clock["step_name"]
        assert r.json()["closed_on"] is None
        # ... and in the department's own warnings inbox, to answer.
        r = await stack.http.get("/supervision/warnings", headers=staff(MARKET, "reviewer"))
        assert {(w["case_no"], w["level"]) for w in r.json()["items"]} >= {(joint_no, "red")}
        assert (waiting["part_no"], "red") in keys
        # It comes back, reports its two steps and crashes before its result and acknowledgement.
        crashed = stack.start_external(
            system["client_id"], system["client_secret"], journal, "--crash-after-steps"
        )
        # The server runs on this event loop: wait for the process off it.
        assert await asyncio.to_thread(crashed.wait, 60) == 0
        half = (await _view(stack, joint_no))["parts"][2]
        assert (half["status"], half["steps"], half["deliveries"], half["acked_at"]) == (
            "in_progress",
            2,
            1,
            None,
        )
        assert (await _view(stack, joint_no))["status"] == "accepted"
        # Back for good: the part is handed out again; the re-sent steps are recognised, not doubled.
        stack.start_external(system["client_id"], system["client_secret"], journal)
        done = await eventually(lambda: _completed(stack, joint_no))
        assert done["outcome"] == "refused"
        part = done["parts"][2]
        assert (part["status"], part["steps"], part["deliveries"]) == ("refused", 2, 2)
        async with session_scope(app.state.sessionmaker) as session:
            steps = (
                await session.execute(
                    text("SELECT count(*) FROM case_step WHERE case_no = :c AND step_key LIKE :k"),
                    {"c": joint_no, "k": waiting["part_no"][-3:] + ":%"},
                )
            ).scalar_one()
        assert steps == 2
        r = await stack.http.get(f"/cases/{joint_no}/deadline", headers=staff(HOUSING, "supervisor"))
        assert r.json()["closed_on"] is not None
        assert all(c["ended_at"] is not None for c in r.json()["steps"])
        assert "元江县市场监督管理局" in done["notice_text"] and "不符合规划条件" in done["notice_text"]
        assert (await _joint_events(stack)).count("yiwang.management.joint_case.completed.v1") == 1

    async def test_a_system_sees_and_touches_only_its_own_department(self, stack: Stack) -> None:
        market = await _register(stack.http, MARKET, ITEMS[MARKET])
        housing = await _register(stack.http, HOUSING, None)
        case = await _open(stack.http)
        part_no = case["parts"][2]["part_no"]

        async def token(system: dict[str, Any], secret: str | None = None) -> httpx.Response:
            return await stack.http.post(
                "/plugin/token",
                json={"client_id": system["client_id"], "client_secret": secret or system["client_secret"]},
            )

        assert (await token(market, "wrong")).status_code == 401
        other = {"Authorization": "Bearer " + (await token(housing)).json()["access_token"]}
        mine = {"Authorization": "Bearer " + (await token(market)).json()["access_token"]}
        assert (await stack.http.get("/plugin/dispatches", headers=other)).json()["items"] == []
        assert (await stack.http.get(f"/plugin/parts/{part_no}", headers=other)).status_code == 404
        step = {
            "step_key": "review",
            "step_name": "审查",
            "handler_name": "他人",
            "started_at": case["accepted_at"],
            "ended_at": case["accepted_at"],
        }
        assert (
            await stack.http.post(f"/plugin/parts/{part_no}/steps", json=step, headers=other)
        ).status_code == 404
        assert (await stack.http.post(f"/plugin/parts/{part_no}/steps", json=step)).status_code == 401
        # An external system may only be configured for its own department's items.
        r = await stack.http.put(
            f"/plugin/items/{ITEMS[PLANNING]}/handler",
            json={"handler": "external", "system_id": housing["system_id"]},
            headers=admin(),
        )
        assert r.status_code == 422
        [dispatch] = (await stack.http.get("/plugin/dispatches", headers=mine)).json()["items"]
        assert dispatch["part"]["part_no"] == part_no and dispatch["part"]["department"]["code"] == MARKET
        assert (
            await stack.http.post(f"/plugin/parts/{part_no}/steps", json=step, headers=mine)
        ).status_code == 200
        # 补正: the department asks for more; the window and the applicant see the part waiting for it.
        r = await stack.http.post(
            f"/plugin/parts/{part_no}/supplement-requests",
            json={"reason": "请补充经营场所平面图", "materials": ["M03"]},
            headers=mine,
        )
        assert (r.status_code, r.json()["status"]) == (200, "awaiting_supplement")
        [_, _, asked] = (await _view(stack, case["joint_no"]))["parts"]
        assert asked["supplement"]["reason"] == "请补充经营场所平面图"
        # The window hands the material in; the part goes back to the system's list with it.
        plan = {
            "material_code": "M03",
            "name": "经营场所平面图",
            "sha256": "a" * 64,
            "size": 1024,
            "media_type": "application/pdf",
        }
        supplement = f"/joint-cases/{case['joint_no']}/parts/{part_no}/supplement"
        r = await stack.http.post(supplement, json={"materials": [plan]}, headers=staff(PLANNING, "acceptor"))
        assert r.status_code == 404  # not the window that opened the case
        r = await stack.http.post(supplement, json={"materials": [plan]}, headers=staff(HOUSING, "acceptor"))
        assert (r.status_code, r.json()["parts"][2]["status"]) == (200, "in_progress"), r.text
        assert (
            await stack.http.post(supplement, json={"materials": [plan]}, headers=staff(HOUSING, "acceptor"))
        ).status_code == 409
        [again] = (await stack.http.get("/plugin/dispatches", headers=mine)).json()["items"]
        assert again["reason"] == "supplemented" and again["deliveries"] == 2
        assert [m["material_code"] for m in again["part"]["materials"]] == ["M03"]
        assert (await stack.http.post(f"/plugin/dispatches/{part_no}/ack", headers=mine)).json()[
            "status"
        ] == "in_progress"
        assert (await stack.http.get("/plugin/dispatches", headers=mine)).json()["items"] == []
        decision = {
            "document_no": "市监许〔2026〕1号",
            "title": "不予行政许可决定书",
            "body": "不予许可。",
            "decided_at": case["accepted_at"],
            "decider_name": "审批员",
            "org": {"name": DEPARTMENTS[MARKET], "code": MARKET},
        }
        result = f"/plugin/parts/{part_no}/result"
        # A refusal needs its reason; the decision must be the part's department's own.
        assert (
            await stack.http.post(result, json={"outcome": "refused", "decision": decision}, headers=mine)
        ).status_code == 422
        foreign = {**decision, "org": {"name": DEPARTMENTS[HOUSING], "code": HOUSING}}
        refusal = {"outcome": "refused", "reason": "不符合条件", "decision": foreign}
        assert (await stack.http.post(result, json=refusal, headers=mine)).status_code == 422
        refusal["decision"] = decision
        assert (await stack.http.post(result, json=refusal, headers=other)).status_code == 404
        assert (await stack.http.post(result, json=refusal, headers=mine)).json()["status"] == "refused"
        # The same result again changes nothing; another one is a conflict.
        assert (await stack.http.post(result, json=refusal, headers=mine)).status_code == 200
        approval = {"outcome": "approved", "decision": {**decision, "title": "准予行政许可决定书"}}
        assert (await stack.http.post(result, json=approval, headers=mine)).status_code == 409
        # A joint case needs items in force of different departments.
        r = await stack.http.post(
            "/joint-cases",
            json={
                "theme_name": "重复部门",
                "item_codes": [ITEMS[HOUSING], "NOSUCHITEM"],
                "applicant": APPLICANT,
            },
            headers=staff(HOUSING, "acceptor"),
        )
        assert (r.status_code, r.json()["code"]) == (404, "item_not_found")
        # Others may not read the joint case.
        r = await stack.http.get(
            f"/joint-cases/{case['joint_no']}",
            headers=bearer(Principal(sub="acct-other", name="李四", kind="natural_person")),
        )
        assert r.status_code == 404


async def _two_decided(stack: Stack, joint_no: str) -> bool:
    view = await _view(stack, joint_no)
    return sum(p["status"] == "approved" for p in view["parts"]) == 2
