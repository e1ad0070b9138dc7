"""``/api/v1/workflows``: staff read, administrators define."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from business_testkit import ADMIN, ITEM, REVIEWER, counts, token
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

THREE_STEPS: dict[str, Any] = {
    "steps": [
        {"key": "review", "name": "审查", "role": "reviewer", "kind": "review"},
        {"key": "survey", "name": "现场踏勘", "role": "reviewer", "kind": "review"},
        {"key": "decide", "name": "决定", "role": "approver", "kind": "decide"},
    ],
    "licence_type_code": "11100000000013338W032",
    "licence_type_name": "建筑工程施工许可证",
    "licence_validity_days": 365,
    "decision_doc_prefix": "元住建许",
    "licence_fields": {"工程名称": ["project_name"]},
}


class TestGetWorkflow:
    async def test_item_without_definition_falls_back_to_builtin_default(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get(f"/api/v1/workflows/{ITEM}", headers=REVIEWER)
        assert response.status_code == 200
        body = response.json()
        assert body["item_code"] == "*"
        assert body["builtin"] is True
        assert [(s["key"], s["name"], s["role"], s["kind"]) for s in body["steps"]] == [
            ("review", "审查", "reviewer", "review"),
            ("decide", "决定", "approver", "decide"),
        ]

    async def test_item_with_definition_gets_its_own(self, client: httpx.AsyncClient) -> None:
        await client.put(f"/api/v1/workflows/{ITEM}", json=THREE_STEPS, headers=ADMIN)
        body = (await client.get(f"/api/v1/workflows/{ITEM}", headers=REVIEWER)).json()
        assert body["item_code"] == ITEM
        assert [s["key"] for s in body["steps"]] == ["review", "survey", "decide"]

    async def test_stored_default_replaces_builtin_for_other_items(self, client: httpx.AsyncClient) -> None:
        await client.put(
            "/api/v1/workflows/*",
            json=THREE_STEPS | {"licence_type_code": None, "licence_type_name": None},
            headers=ADMIN,
        )
        body = (await client.get("/api/v1/workflows/OTHER01", headers=REVIEWER)).json()
        assert (body["item_code"], body["builtin"], len(body["steps"])) == ("*", False, 3)

    async def test_applicant_gets_403(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"/api/v1/workflows/{ITEM}", headers=token("applicant", org=None))
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"

    async def test_without_token_gets_401(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(f"/api/v1/workflows/{ITEM}")).status_code == 401

    async def test_malformed_item_code_gets_422(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/workflows/bad-code!", headers=REVIEWER)
        assert response.status_code == 422
        assert response.json()["code"] == "validation_failed"


class TestListWorkflows:
    async def test_lists_builtin_default_first_then_stored_by_item_code(
        self, client: httpx.AsyncClient
    ) -> None:
        await client.put("/api/v1/workflows/B2", json=THREE_STEPS, headers=ADMIN)
        await client.put("/api/v1/workflows/A1", json=THREE_STEPS, headers=ADMIN)
        body = (await client.get("/api/v1/workflows", headers=REVIEWER)).json()
        assert [w["item_code"] for w in body["items"]] == ["*", "A1", "B2"]
        assert body["pagination"] == {"total_count": 3, "max_page": 1}

    async def test_pages_do_not_skip_stored_rows_behind_the_builtin(self, client: httpx.AsyncClient) -> None:
        for code in ("A1", "B2", "C3"):
            await client.put(f"/api/v1/workflows/{code}", json=THREE_STEPS, headers=ADMIN)
        pages = [
            [
                w["item_code"]
                for w in (await client.get(f"/api/v1/workflows?page={p}&limit=2", headers=REVIEWER)).json()[
                    "items"
                ]
            ]
            for p in (1, 2)
        ]
        assert pages == [["*", "A1"], ["B2", "C3"]]


class TestPutWorkflow:
    async def test_admin_creates_version_1_then_each_edit_bumps_it(self, client: httpx.AsyncClient) -> None:
        first = await client.put(f"/api/v1/workflows/{ITEM}", json=THREE_STEPS, headers=ADMIN)
        second = await client.put(
            f"/api/v1/workflows/{ITEM}", json=THREE_STEPS | {"licence_validity_days": None}, headers=ADMIN
        )
        assert (first.status_code, first.json()["version"]) == (200, 1)
        assert (second.status_code, second.json()["version"]) == (200, 2)
        assert second.json()["licence_validity_days"] is None

    async def test_reviewer_gets_403(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        response = await client.put(f"/api/v1/workflows/{ITEM}", json=THREE_STEPS, headers=REVIEWER)
        assert response.status_code == 403
        assert (await counts(sessionmaker))["workflow_definition"] == 0

    @pytest.mark.parametrize(
        ("steps", "code"),
        [
            (
                [
                    {"key": "a", "name": "审查", "role": "reviewer", "kind": "review"},
                    {"key": "a", "name": "决定", "role": "approver", "kind": "decide"},
                ],
                "invalid_workflow",
            ),
            ([{"key": "a", "name": "审查", "role": "reviewer", "kind": "review"}], "invalid_workflow"),
            (
                [
                    {"key": "a", "name": "决定", "role": "approver", "kind": "decide"},
                    {"key": "b", "name": "决定", "role": "approver", "kind": "decide"},
                ],
                "invalid_workflow",
            ),
            ([{"key": "a", "name": "决定", "role": "janitor", "kind": "decide"}], "validation_failed"),
            ([{"key": "a", "name": "决定", "role": "applicant", "kind": "decide"}], "validation_failed"),
            ([{"key": "a", "name": "决定", "role": "approver", "kind": "vote"}], "validation_failed"),
            ([], "validation_failed"),
        ],
        ids=[
            "duplicate-keys",
            "no-decide",
            "decide-not-last",
            "unknown-role",
            "applicant-role",
            "unknown-kind",
            "empty",
        ],
    )
    async def test_invalid_steps_get_422_and_change_nothing(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        steps: list[dict[str, str]],
        code: str,
    ) -> None:
        await client.put(f"/api/v1/workflows/{ITEM}", json=THREE_STEPS, headers=ADMIN)
        before = await counts(sessionmaker)
        response = await client.put(
            f"/api/v1/workflows/{ITEM}", json=THREE_STEPS | {"steps": steps}, headers=ADMIN
        )
        assert (response.status_code, response.json()["code"]) == (422, code)
        assert await counts(sessionmaker) == before
        assert (await client.get(f"/api/v1/workflows/{ITEM}", headers=REVIEWER)).json()["version"] == 1

    @pytest.mark.parametrize(
        "change",
        [
            {"licence_type_code": "SHORT"},
            {"licence_type_name": None},
            {"licence_validity_days": 0},
            {"decision_doc_prefix": ""},
            {"unexpected": 1},
        ],
    )
    async def test_invalid_licence_settings_get_422(
        self, client: httpx.AsyncClient, change: dict[str, Any]
    ) -> None:
        response = await client.put(f"/api/v1/workflows/{ITEM}", json=THREE_STEPS | change, headers=ADMIN)
        assert response.status_code == 422
