"""Input limits and validation in business (ADR 0012): opinions and workflow text, body size."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from business_testkit import ADMIN, ITEM, REVIEWER, TakeOver, counts, outbox
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

WORKFLOW: dict[str, Any] = {
    "steps": [
        {"key": "review", "name": "审查", "role": "reviewer", "kind": "review"},
        {"key": "decide", "name": "决定", "role": "approver", "kind": "decide"},
    ],
    "decision_doc_prefix": "元住建许",
}


async def _review_task(client: httpx.AsyncClient, take_over: TakeOver) -> str:
    data = await take_over()
    items = (await client.get("/api/v1/tasks?limit=100", headers=REVIEWER)).json()["items"]
    return str(next(t for t in items if t["case_no"] == data.case_no)["id"])


class TestOpinionText:
    @pytest.mark.parametrize(
        "opinion",
        [b"\\u0000", b"\\u0000\\u0000", b"\\ud800", b"ok\\udfff", b"\\u001b[31m", b"\\u0085", b"\\uffff"],
    )
    async def test_opinion_with_forbidden_characters_is_422_and_changes_nothing(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        take_over: TakeOver,
        opinion: bytes,
    ) -> None:
        task_id = await _review_task(client, take_over)
        before = await counts(sessionmaker)
        raw = b'{"decision": "refuse", "opinion": "%s"}' % opinion
        r = await client.post(
            f"/api/v1/tasks/{task_id}/complete",
            content=raw,
            headers=REVIEWER | {"content-type": "application/json"},
        )
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["pointer"] == "/body/opinion"
        assert await counts(sessionmaker) == before

    async def test_multi_line_opinion_is_kept(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], take_over: TakeOver
    ) -> None:
        task_id = await _review_task(client, take_over)
        r = await client.post(
            f"/api/v1/tasks/{task_id}/complete",
            json={"decision": "approve", "opinion": " 一、材料齐全；\n二、同意。 "},
            headers=REVIEWER,
        )
        assert r.status_code == 200, r.text
        events = [d for s, d in await outbox(sessionmaker) if s.endswith("case.step_completed.v1")]
        assert events[-1]["data"]["step"]["opinion"] == "一、材料齐全；\n二、同意。"

    async def test_oversized_body_is_413_and_changes_nothing(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], take_over: TakeOver
    ) -> None:
        task_id = await _review_task(client, take_over)
        before = await counts(sessionmaker)
        r = await client.post(
            f"/api/v1/tasks/{task_id}/complete",
            content=orjson.dumps({"decision": "approve", "opinion": "同" * 300_000}),
            headers=REVIEWER | {"content-type": "application/json"},
        )
        assert (r.status_code, r.json()["code"]) == (413, "payload_too_large")
        assert await counts(sessionmaker) == before


class TestWorkflowText:
    @pytest.mark.parametrize(
        "change",
        [
            {"decision_doc_prefix": "元住\u0000建"},
            {"licence_type_name": "许可\u202e证\u0007"},
            {"licence_fields": {"工程\u0000名称": ["project_name"]}},
            {"licence_fields": {"工程名称": ["project\u001bname"]}},
            {"licence_fields": {"工程名称": [f"k{i}" for i in range(11)]}},
            {
                "steps": [{"key": "review", "name": "审\u0000查", "role": "reviewer", "kind": "review"}]
                + WORKFLOW["steps"][1:]
            },
        ],
    )
    async def test_workflow_with_forbidden_text_or_long_lists_is_422(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        change: dict[str, Any],
    ) -> None:
        before = await counts(sessionmaker)
        r = await client.put(f"/api/v1/workflows/{ITEM}", json=WORKFLOW | change, headers=ADMIN)
        assert r.status_code == 422, r.text
        assert await counts(sessionmaker) == before

    async def test_lone_surrogate_in_a_step_name_is_422_not_500(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        raw = orjson.dumps(WORKFLOW).replace("审查".encode(), b"\\ud800")
        r = await client.put(
            f"/api/v1/workflows/{ITEM}", content=raw, headers=ADMIN | {"content-type": "application/json"}
        )
        assert r.status_code == 422, r.text

    async def test_clean_workflow_is_stored(self, client: httpx.AsyncClient) -> None:
        r = await client.put(f"/api/v1/workflows/{ITEM}", json=WORKFLOW, headers=ADMIN)
        assert r.status_code == 200, r.text
