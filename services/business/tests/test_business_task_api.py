"""``/api/v1/tasks``: the work queue and completing steps up to the decision."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from business_testkit import APPROVER, ORG, OTHER_ORG, REVIEWER, TakeOver, accepted, counts, outbox, token
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.contracts.business import CaseStepCompleted

APPROVE = {"decision": "approve", "opinion": "材料齐全，符合法定条件。"}
REFUSE = {"decision": "refuse", "opinion": "施工图设计文件未经审查合格。"}


async def open_task(client: httpx.AsyncClient, headers: dict[str, str], case_no: str) -> dict[str, Any]:
    items = (await client.get("/api/v1/tasks?limit=100", headers=headers)).json()["items"]
    return next(t for t in items if t["case_no"] == case_no)


async def complete(
    client: httpx.AsyncClient, headers: dict[str, str], task_id: str, body: dict[str, Any]
) -> httpx.Response:
    return await client.post(f"/api/v1/tasks/{task_id}/complete", json=body, headers=headers)


class TestListTasks:
    async def test_lists_open_tasks_of_my_unit_and_role_oldest_first(
        self, client: httpx.AsyncClient, take_over: TakeOver
    ) -> None:
        first, second = await take_over(), await take_over()
        await take_over(accepted(org=OTHER_ORG))
        body = (await client.get("/api/v1/tasks", headers=REVIEWER)).json()
        assert [t["case_no"] for t in body["items"]] == [first.case_no, second.case_no]
        assert body["pagination"] == {"total_count": 2, "max_page": 1}
        item = body["items"][0]
        assert (item["item_name"], item["applicant_name"], item["step_name"], item["due_date"]) == (
            "建筑工程施工许可证核发",
            "张三",
            "审查",
            first.due_date.isoformat(),
        )

    async def test_approver_does_not_see_review_tasks(
        self, client: httpx.AsyncClient, take_over: TakeOver
    ) -> None:
        await take_over()
        assert (await client.get("/api/v1/tasks", headers=APPROVER)).json()["items"] == []

    async def test_staff_without_unit_sees_nothing(
        self, client: httpx.AsyncClient, take_over: TakeOver
    ) -> None:
        await take_over()
        assert (await client.get("/api/v1/tasks", headers=token("reviewer", org=None))).json()["items"] == []

    async def test_done_tasks_are_listed_with_status_done(
        self, client: httpx.AsyncClient, take_over: TakeOver
    ) -> None:
        data = await take_over()
        task = await open_task(client, REVIEWER, data.case_no)
        await complete(client, REVIEWER, task["id"], APPROVE)
        done = (await client.get("/api/v1/tasks?status=done", headers=REVIEWER)).json()["items"]
        assert [(t["id"], t["status"], t["handler_name"], t["decision"]) for t in done] == [
            (task["id"], "done", "审查员", "approve")
        ]

    async def test_pages_are_cut_by_limit(self, client: httpx.AsyncClient, take_over: TakeOver) -> None:
        for _ in range(3):
            await take_over()
        body = (await client.get("/api/v1/tasks?page=2&limit=2", headers=REVIEWER)).json()
        assert (len(body["items"]), body["pagination"]) == (1, {"total_count": 3, "max_page": 2})

    @pytest.mark.parametrize("query", ["status=closed", "page=0", "limit=101", "limit=x"])
    async def test_bad_query_gets_422(self, client: httpx.AsyncClient, query: str) -> None:
        assert (await client.get(f"/api/v1/tasks?{query}", headers=REVIEWER)).status_code == 422

    async def test_applicant_gets_403(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/api/v1/tasks", headers=token("applicant", org=None))).status_code == 403


class TestGetTask:
    async def test_returns_task_with_case_facts(self, client: httpx.AsyncClient, take_over: TakeOver) -> None:
        data = await take_over()
        task = await open_task(client, REVIEWER, data.case_no)
        body = (await client.get(f"/api/v1/tasks/{task['id']}", headers=REVIEWER)).json()
        assert body["case"]["form"]["工程名称"] == "元江县第一中学教学楼"
        assert body["case"]["materials"][0]["sha256"] == "a" * 64
        assert body["case"]["org"] == {"name": "元江县住房和城乡建设局", "code": ORG}

    async def test_another_units_task_gets_404(self, client: httpx.AsyncClient, take_over: TakeOver) -> None:
        data = await take_over()
        task = await open_task(client, REVIEWER, data.case_no)
        response = await client.get(f"/api/v1/tasks/{task['id']}", headers=token("reviewer", org=OTHER_ORG))
        assert (response.status_code, response.json()["code"]) == (404, "task_not_found")

    async def test_task_for_another_post_gets_404(
        self, client: httpx.AsyncClient, take_over: TakeOver
    ) -> None:
        data = await take_over()
        task = await open_task(client, REVIEWER, data.case_no)
        assert (await client.get(f"/api/v1/tasks/{task['id']}", headers=APPROVER)).status_code == 404

    async def test_unknown_and_malformed_ids(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(f"/api/v1/tasks/{uuid.uuid4()}", headers=REVIEWER)).status_code == 404
        assert (await client.get("/api/v1/tasks/not-a-uuid", headers=REVIEWER)).status_code == 422


class TestCompleteReviewStep:
    async def test_approve_opens_decide_task_and_emits_step_completed(
        self, client: httpx.AsyncClient, take_over: TakeOver, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        data = await take_over()
        task = await open_task(client, REVIEWER, data.case_no)
        response = await complete(client, REVIEWER, task["id"], APPROVE)
        assert response.status_code == 200
        body = response.json()
        assert (body["task"]["status"], body["case_status"], body["next_task"]["step_key"]) == (
            "done",
            "in_progress",
            "decide",
        )
        assert (await open_task(client, APPROVER, data.case_no))["id"] == body["next_task"]["id"]
        [(subject, event)] = await outbox(sessionmaker)
        assert subject == CaseStepCompleted.subject
        assert (event["subject"], event["correlationid"]) == (data.case_no, data.case_no)
        payload = CaseStepCompleted.model_validate(event["data"])
        assert (payload.case_no, payload.application_id, payload.next_step_name) == (
            data.case_no,
            data.application_id,
            "决定",
        )
        step = payload.step
        assert (
            step.step_key,
            step.action,
            step.handler_id,
            step.handler_name,
            step.opinion,
            step.org.code,
        ) == (
            "review",
            "pass",
            "shencha",
            "审查员",
            APPROVE["opinion"],
            ORG,
        )
        assert (
            step.started_at.isoformat() == task["created_at"].replace("Z", "+00:00")
            and step.ended_at >= step.started_at
        )

    async def test_refusal_recommendation_is_action_other_and_still_goes_to_decide(
        self, client: httpx.AsyncClient, take_over: TakeOver, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        data = await take_over()
        task = await open_task(client, REVIEWER, data.case_no)
        body = (await complete(client, REVIEWER, task["id"], REFUSE)).json()
        assert body["next_task"]["step_key"] == "decide"
        [(_, event)] = await outbox(sessionmaker)
        assert (event["data"]["step"]["action"], event["data"]["step"]["opinion"]) == (
            "other",
            REFUSE["opinion"],
        )

    async def test_second_completion_gets_409_and_emits_nothing_more(
        self, client: httpx.AsyncClient, take_over: TakeOver, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        data = await take_over()
        task = await open_task(client, REVIEWER, data.case_no)
        await complete(client, REVIEWER, task["id"], APPROVE)
        before = await counts(sessionmaker)
        response = await complete(client, REVIEWER, task["id"], APPROVE)
        assert (response.status_code, response.json()["code"]) == (409, "task_not_open")
        assert await counts(sessionmaker) == before

    async def test_wrong_post_in_same_unit_gets_403(
        self, client: httpx.AsyncClient, take_over: TakeOver, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        data = await take_over()
        task = await open_task(client, REVIEWER, data.case_no)
        before = await counts(sessionmaker)
        response = await complete(client, APPROVER, task["id"], APPROVE)
        assert (response.status_code, response.json()["code"]) == (403, "task_role_forbidden")
        assert await counts(sessionmaker) == before

    async def test_another_units_task_gets_404_and_changes_nothing(
        self, client: httpx.AsyncClient, take_over: TakeOver, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        data = await take_over()
        task = await open_task(client, REVIEWER, data.case_no)
        before = await counts(sessionmaker)
        response = await complete(client, token("reviewer", org=OTHER_ORG), task["id"], APPROVE)
        assert response.status_code == 404
        assert await counts(sessionmaker) == before

    @pytest.mark.parametrize(
        "body",
        [
            {"decision": "maybe", "opinion": "x"},
            {"decision": "approve", "opinion": ""},
            {"decision": "approve", "opinion": "   "},
            {"decision": "approve", "opinion": "长" * 1001},
            {"decision": "approve"},
            {"decision": "approve", "opinion": "x", "extra": 1},
        ],
        ids=["bad-decision", "empty-opinion", "blank-opinion", "long-opinion", "no-opinion", "extra-field"],
    )
    async def test_bad_body_gets_422_and_changes_nothing(
        self,
        client: httpx.AsyncClient,
        take_over: TakeOver,
        sessionmaker: async_sessionmaker[AsyncSession],
        body: dict[str, Any],
    ) -> None:
        data = await take_over()
        task = await open_task(client, REVIEWER, data.case_no)
        before = await counts(sessionmaker)
        response = await complete(client, REVIEWER, task["id"], body)
        assert response.status_code == 422
        assert await counts(sessionmaker) == before
        assert (await open_task(client, REVIEWER, data.case_no))["status"] == "open"
