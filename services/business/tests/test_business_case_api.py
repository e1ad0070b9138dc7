"""``/api/v1/cases/{case_no}``: the case with its tasks, decision and licence."""

from __future__ import annotations

import httpx
from business_testkit import ADMIN, APPROVER, ITEM, OTHER_ORG, REVIEWER, TakeOver, token

from yiwang_business.demo import CONSTRUCTION_PERMIT_WORKFLOW

PERMIT = {k: v for k, v in CONSTRUCTION_PERMIT_WORKFLOW.items() if k != "version"}
APPROVE = {"decision": "approve", "opinion": "同意。"}


async def finish(client: httpx.AsyncClient, case_no: str) -> None:
    for headers in (REVIEWER, APPROVER):
        items = (await client.get("/api/v1/tasks?limit=100", headers=headers)).json()["items"]
        task = next(t for t in items if t["case_no"] == case_no)
        await client.post(f"/api/v1/tasks/{task['id']}/complete", json=APPROVE, headers=headers)


class TestGetCase:
    async def test_in_progress_case_shows_open_task_and_no_decision(
        self, client: httpx.AsyncClient, take_over: TakeOver
    ) -> None:
        data = await take_over()
        body = (await client.get(f"/api/v1/cases/{data.case_no}", headers=APPROVER)).json()
        assert (body["status"], body["outcome"], body["decision"], body["licence"]) == (
            "in_progress",
            None,
            None,
            None,
        )
        assert [(t["step_key"], t["status"]) for t in body["tasks"]] == [("review", "open")]
        assert body["facts"]["applicant"]["name"] == "张三"

    async def test_decided_case_shows_tasks_decision_and_licence(
        self, client: httpx.AsyncClient, take_over: TakeOver
    ) -> None:
        await client.put(f"/api/v1/workflows/{ITEM}", json=PERMIT, headers=ADMIN)
        data = await take_over()
        await finish(client, data.case_no)
        body = (await client.get(f"/api/v1/cases/{data.case_no}", headers=REVIEWER)).json()
        assert (body["status"], body["outcome"], body["workflow_version"]) == ("decided", "approved", 1)
        assert [(t["step_key"], t["status"]) for t in body["tasks"]] == [
            ("review", "done"),
            ("decide", "done"),
        ]
        assert body["decision"]["title"] == "准予行政许可决定书"
        assert body["licence"]["identifier"].startswith("1.2.156.3005.2.11100000000013338W032.")

    async def test_another_units_case_gets_404(self, client: httpx.AsyncClient, take_over: TakeOver) -> None:
        data = await take_over()
        response = await client.get(f"/api/v1/cases/{data.case_no}", headers=token("reviewer", org=OTHER_ORG))
        assert (response.status_code, response.json()["code"]) == (404, "case_not_found")

    async def test_unknown_case_gets_404_and_malformed_422(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/api/v1/cases/530428202611239999999", headers=REVIEWER)).status_code == 404
        assert (await client.get("/api/v1/cases/53042820261123%2A", headers=REVIEWER)).status_code == 422

    async def test_applicant_gets_403(self, client: httpx.AsyncClient, take_over: TakeOver) -> None:
        data = await take_over()
        assert (
            await client.get(f"/api/v1/cases/{data.case_no}", headers=token("applicant", org=None))
        ).status_code == 403
