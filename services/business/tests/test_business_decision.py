"""The 决定 step: 决定书, e-licence and CaseDecided."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from business_testkit import (
    ADMIN,
    APPROVER,
    ITEM,
    ORG,
    OTHER_ORG,
    REVIEWER,
    TakeOver,
    accepted,
    counts,
    outbox,
    token,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_business.clock import local_date
from yiwang_business.demo import CONSTRUCTION_PERMIT_WORKFLOW
from yiwang_business.licence.identifier import identifier_valid, licence_identifier
from yiwang_common.contracts.business import CaseDecided
from yiwang_common.db import utcnow

APPROVE = {"decision": "approve", "opinion": "符合法定条件，准予许可。"}
REFUSE = {"decision": "refuse", "opinion": "施工图设计文件未经审查合格。"}
PERMIT = {k: v for k, v in CONSTRUCTION_PERMIT_WORKFLOW.items() if k != "version"}


async def step(
    client: httpx.AsyncClient, headers: dict[str, str], case_no: str, body: dict[str, Any]
) -> httpx.Response:
    items = (await client.get("/api/v1/tasks?limit=100", headers=headers)).json()["items"]
    task = next(t for t in items if t["case_no"] == case_no)
    return await client.post(f"/api/v1/tasks/{task['id']}/complete", json=body, headers=headers)


async def decided(sessionmaker: async_sessionmaker[AsyncSession]) -> CaseDecided:
    subject, event = (await outbox(sessionmaker))[-1]
    assert subject == CaseDecided.subject
    return CaseDecided.model_validate(event["data"])


class TestApprove:
    async def test_issues_decision_and_gbt36904_licence(
        self, client: httpx.AsyncClient, take_over: TakeOver, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        await client.put(f"/api/v1/workflows/{ITEM}", json=PERMIT, headers=ADMIN)
        data = await take_over()
        await step(client, REVIEWER, data.case_no, APPROVE)
        response = await step(client, APPROVER, data.case_no, APPROVE)
        assert response.status_code == 200
        body = response.json()
        today = local_date(utcnow())
        assert (body["case_status"], body["outcome"]) == ("decided", "approved")
        assert body["decision"]["title"] == "准予行政许可决定书"
        assert body["decision"]["document_no"] == f"元住建许〔{today.year}〕第000001号"
        licence = body["licence"]
        assert licence["licence_no"] == f"530428{today:%Y%m%d}000001"
        assert licence["identifier"] == licence_identifier(
            "11100000000013338W032", ORG, licence["licence_no"], "001"
        )
        assert identifier_valid(licence["identifier"])
        assert (licence["holder_name"], licence["holder_code"], licence["holder_code_type"]) == (
            "张三",
            "530428199001011231",
            "111",
        )
        assert (licence["issued_on"], licence["valid_from"], licence["valid_until"]) == (
            today.isoformat(),
            today.isoformat(),
            None,
        )
        assert (licence["trust_level"], licence["case_no"], licence["jurisdiction_code"]) == (
            "A",
            data.case_no,
            "530428",
        )
        assert licence["data"] == {
            "工程名称": "元江县第一中学教学楼",
            "建设地址": "元江县澧江街道",
            "建设规模": "5000平方米",
        }

    async def test_case_decided_carries_every_step_in_order(
        self, client: httpx.AsyncClient, take_over: TakeOver, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        await client.put(f"/api/v1/workflows/{ITEM}", json=PERMIT, headers=ADMIN)
        data = await take_over()
        await step(client, REVIEWER, data.case_no, REFUSE)
        body = (await step(client, APPROVER, data.case_no, APPROVE)).json()
        event = await decided(sessionmaker)
        assert (event.case_no, event.application_id, event.item_code, event.outcome) == (
            data.case_no,
            data.application_id,
            ITEM,
            "approved",
        )
        assert [(s.step_key, s.action, s.handler_name) for s in event.steps] == [
            ("review", "other", "审查员"),
            ("decide", "pass", "决定人"),
        ]
        assert event.decision.document_no == body["decision"]["document_no"]
        assert event.licence is not None and event.licence.identifier == body["licence"]["identifier"]

    async def test_validity_days_set_valid_until(
        self, client: httpx.AsyncClient, take_over: TakeOver
    ) -> None:
        await client.put(
            f"/api/v1/workflows/{ITEM}", json=PERMIT | {"licence_validity_days": 365}, headers=ADMIN
        )
        data = await take_over()
        await step(client, REVIEWER, data.case_no, APPROVE)
        licence = (await step(client, APPROVER, data.case_no, APPROVE)).json()["licence"]
        today = local_date(utcnow())
        assert licence["valid_until"] == (today + timedelta(days=365)).isoformat()

    async def test_builtin_default_decides_without_licence(
        self, client: httpx.AsyncClient, take_over: TakeOver, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        data = await take_over()
        await step(client, REVIEWER, data.case_no, APPROVE)
        body = (await step(client, APPROVER, data.case_no, APPROVE)).json()
        assert (body["outcome"], body["licence"]) == ("approved", None)
        assert (await decided(sessionmaker)).licence is None
        assert (await counts(sessionmaker))["e_licence"] == 0

    async def test_numbers_run_on_per_unit(self, client: httpx.AsyncClient, take_over: TakeOver) -> None:
        await client.put(f"/api/v1/workflows/{ITEM}", json=PERMIT, headers=ADMIN)
        other_approver = token("approver", org=OTHER_ORG)
        cases = [(await take_over(), REVIEWER, APPROVER) for _ in range(2)]
        cases.append(
            (await take_over(accepted(org=OTHER_ORG)), token("reviewer", org=OTHER_ORG), other_approver)
        )
        numbers = []
        for data, reviewer, approver in cases:
            await step(client, reviewer, data.case_no, APPROVE)
            body = (await step(client, approver, data.case_no, APPROVE)).json()
            numbers.append((body["decision"]["document_no"][-7:-1], body["licence"]["licence_no"][-6:]))
        assert numbers == [("000001", "000001"), ("000002", "000002"), ("000001", "000003")]


class TestRefuse:
    async def test_issues_refusal_with_reasons_and_no_licence(
        self, client: httpx.AsyncClient, take_over: TakeOver, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        await client.put(f"/api/v1/workflows/{ITEM}", json=PERMIT, headers=ADMIN)
        data = await take_over()
        await step(client, REVIEWER, data.case_no, APPROVE)
        body = (await step(client, APPROVER, data.case_no, REFUSE)).json()
        assert (body["outcome"], body["licence"], body["decision"]["title"]) == (
            "refused",
            None,
            "不予行政许可决定书",
        )
        assert REFUSE["opinion"] in body["decision"]["body"] and "行政复议" in body["decision"]["body"]
        event = await decided(sessionmaker)
        assert (event.outcome, event.licence) == ("refused", None)
        assert [(s.step_key, s.action) for s in event.steps] == [("review", "pass"), ("decide", "other")]
        assert (await counts(sessionmaker))["e_licence"] == 0


class TestThreeStepWorkflow:
    async def test_each_step_opens_the_next_until_decide(
        self, client: httpx.AsyncClient, take_over: TakeOver, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        steps = [
            {"key": "review", "name": "审查", "role": "reviewer", "kind": "review"},
            {"key": "survey", "name": "现场踏勘", "role": "reviewer", "kind": "review"},
            {"key": "decide", "name": "决定", "role": "approver", "kind": "decide"},
        ]
        await client.put(f"/api/v1/workflows/{ITEM}", json=PERMIT | {"steps": steps}, headers=ADMIN)
        data = await take_over()
        first = (await step(client, REVIEWER, data.case_no, APPROVE)).json()
        second = (await step(client, REVIEWER, data.case_no, APPROVE)).json()
        await step(client, APPROVER, data.case_no, APPROVE)
        assert (first["next_task"]["step_name"], second["next_task"]["step_name"]) == ("现场踏勘", "决定")
        subjects = [s for s, _ in await outbox(sessionmaker)]
        assert subjects == ["yiwang.business.case.step_completed.v1"] * 2 + [
            "yiwang.business.case.decided.v1"
        ]
        assert [s.step_key for s in (await decided(sessionmaker)).steps] == ["review", "survey", "decide"]


class TestLicenceNotIssuable:
    async def test_malformed_issuer_code_gets_422_and_changes_nothing(
        self, client: httpx.AsyncClient, take_over: TakeOver, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        await client.put(f"/api/v1/workflows/{ITEM}", json=PERMIT, headers=ADMIN)
        data = await take_over(accepted(org="SHORT"))
        await step(client, token("reviewer", org="SHORT"), data.case_no, APPROVE)
        before = await counts(sessionmaker)
        response = await step(client, token("approver", org="SHORT"), data.case_no, APPROVE)
        assert (response.status_code, response.json()["code"]) == (422, "licence_not_issuable")
        assert await counts(sessionmaker) == before
