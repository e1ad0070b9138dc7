"""Helpers of the workflow tests: definitions, a live app on real NATS, and what arrives on the bus."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from business_testkit import ADMIN, ITEM
from nats.aio.msg import Msg

APPROVE = {"decision": "approve", "opinion": "同意。"}
SETTINGS: dict[str, Any] = {
    "licence_type_code": "11100000000013338W032",
    "licence_type_name": "建筑工程施工许可证",
    "licence_validity_days": 365,
    "decision_doc_prefix": "元住建许",
    "licence_fields": {"工程名称": ["工程名称"]},
}


def step(key: str, name: str, role: str = "reviewer", kind: str = "review", **extra: Any) -> dict[str, Any]:
    return {"key": key, "name": name, "role": role, "kind": kind, **extra}


def flow(source: str, target: str, condition: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"source": source, "target": target, "condition": condition, **extra}


def linear(*steps: dict[str, Any]) -> dict[str, Any]:
    return {"steps": list(steps), **SETTINGS}


PARALLEL: dict[str, Any] = {
    "steps": [
        step("planning", "规划审查", "reviewer"),
        step("fire", "消防审查", "acceptor"),
        step("safety", "安全审查", "deliverer"),
        step("decide", "决定", "approver", "decide"),
    ],
    "gateways": [{"key": "split", "type": "parallel"}, {"key": "join", "type": "parallel"}],
    "flows": [
        flow("start", "split"),
        flow("split", "planning"),
        flow("split", "fire"),
        flow("split", "safety"),
        flow("planning", "join"),
        flow("fire", "join"),
        flow("safety", "join"),
        flow("join", "decide"),
        flow("decide", "end"),
    ],
    **SETTINGS,
}


async def define(client: httpx.AsyncClient, body: dict[str, Any], item: str = ITEM) -> dict[str, Any]:
    response = await client.put(f"/api/v1/workflows/{item}", json=body, headers=ADMIN)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def tasks(client: httpx.AsyncClient, headers: dict[str, str], case_no: str) -> list[dict[str, Any]]:
    items = (await client.get("/api/v1/tasks?limit=100", headers=headers)).json()["items"]
    return [t for t in items if t["case_no"] == case_no]


async def the_task(client: httpx.AsyncClient, headers: dict[str, str], case_no: str) -> dict[str, Any]:
    [task] = await tasks(client, headers, case_no)
    return task


async def case(client: httpx.AsyncClient, headers: dict[str, str], case_no: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/cases/{case_no}", headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@dataclass
class Bus:
    """Every business event the relay put on the real NATS server, in arrival order."""

    messages: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def on_message(self, msg: Msg) -> None:
        self.messages.append((msg.subject, orjson.loads(msg.data)))

    async def wait_for(
        self, subject: str, case_no: str | None = None, timeout: float = 10.0
    ) -> dict[str, Any]:
        """The data of the first event with this subject (and case), waiting for the relay."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for subj, envelope in self.messages:
                data: dict[str, Any] = envelope["data"]
                if subj == subject and (case_no is None or data.get("case_no") == case_no):
                    return data
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no {subject} on the bus; got {[s for s, _ in self.messages]}")
            await asyncio.sleep(0.05)

    def subjects(self) -> list[str]:
        return [s for s, _ in self.messages]
