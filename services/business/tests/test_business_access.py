"""Deny by default in business: the unit's tasks and cases in the staff member's region only;
supervisors read the region's cases; an administrator only with a reason, and reads are audited."""

from __future__ import annotations

from typing import Any

import httpx
from business_testkit import ADMIN, ITEM, accepted, token
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_business.db import messaging
from yiwang_business.demo import CONSTRUCTION_PERMIT_WORKFLOW
from yiwang_common.testing import outbox_events

PERMIT = {k: v for k, v in CONSTRUCTION_PERMIT_WORKFLOW.items() if k != "version"}


async def _case(client: httpx.AsyncClient, take_over: Any) -> str:
    await client.put(f"/api/v1/workflows/{ITEM}", json=PERMIT, headers=ADMIN)
    data = await take_over(accepted())
    return str(data.case_no)


class TestRegion:
    async def test_the_same_unit_in_another_region_sees_no_task_and_no_case(
        self, client: httpx.AsyncClient, take_over: Any
    ) -> None:
        case_no = await _case(client, take_over)
        here = (await client.get("/api/v1/tasks", headers=token("reviewer"))).json()["items"]
        assert [t["case_no"] for t in here] == [case_no]
        elsewhere = token("reviewer", region="530100")
        assert (await client.get("/api/v1/tasks", headers=elsewhere)).json()["items"] == []
        task_id = here[0]["id"]
        assert (await client.get(f"/api/v1/tasks/{task_id}", headers=elsewhere)).status_code == 404
        done = await client.post(
            f"/api/v1/tasks/{task_id}/complete",
            json={"decision": "approve", "opinion": "同意"},
            headers=elsewhere,
        )
        assert done.status_code == 404
        assert (await client.get(f"/api/v1/cases/{case_no}", headers=elsewhere)).status_code == 404

    async def test_supervisor_reads_the_regions_case_and_the_read_is_audited(
        self, client: httpx.AsyncClient, take_over: Any, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        case_no = await _case(client, take_over)
        other_unit = "11530428MB1234567X"
        supervisor = token("supervisor", org=other_unit, sub="jiancha", region="530400")
        assert (await client.get(f"/api/v1/cases/{case_no}", headers=supervisor)).status_code == 200
        far = token("supervisor", org=other_unit, sub="jiancha2", region="530100")
        assert (await client.get(f"/api/v1/cases/{case_no}", headers=far)).status_code == 404
        audits = [
            e["data"]
            for _, e in await outbox_events(
                sessionmaker, messaging.outbox, "yiwang.business.audit.recorded.v1"
            )
        ]
        assert [(a["actor_id"], a["target_id"]) for a in audits] == [("jiancha", case_no)]


class TestAdministrator:
    async def test_admin_needs_a_reason_to_read_a_case(
        self, client: httpx.AsyncClient, take_over: Any
    ) -> None:
        case_no = await _case(client, take_over)
        response = await client.get(f"/api/v1/cases/{case_no}", headers=ADMIN)
        assert response.status_code == 403 and response.json()["code"] == "reason_required"
        response = await client.get(f"/api/v1/cases/{case_no}", params={"reason": "投诉核查"}, headers=ADMIN)
        assert response.status_code == 200
        assert response.json()["case_no"] == case_no

    async def test_admin_has_no_tasks(self, client: httpx.AsyncClient, take_over: Any) -> None:
        await _case(client, take_over)
        assert (await client.get("/api/v1/tasks", headers=ADMIN)).json()["items"] == []
