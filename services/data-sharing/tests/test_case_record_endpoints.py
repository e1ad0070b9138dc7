"""GET /api/v1/cases/{case_no}: the record and its steps, for staff or the applicant only."""

from __future__ import annotations

from typing import Any

import httpx
import pytest


@pytest.fixture
async def accepted_case(deliver: Any, story: Any) -> Any:
    await deliver(story.submitted(), 0)
    await deliver(story.registered(), 1)
    await deliver(story.decided(with_licence=False), 4)
    await deliver(story.accepted(), 2)
    return story


class TestGetCaseRecord:
    async def test_applicant_sees_record_with_steps_in_time_order(
        self, client: httpx.AsyncClient, auth: Any, accepted_case: Any
    ) -> None:
        response = await client.get(
            f"/api/v1/cases/{accepted_case.case_no}", headers=auth(accepted_case.applicant_id)
        )
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "accepted"
        assert body["application_id"] == str(accepted_case.application_id)
        assert body["due_date"] == "2026-11-30"
        assert [s["step_key"] for s in body["steps"]] == ["accept", "review", "decide"]
        assert body["steps"][0]["org"]["name"] == "元江县住房和城乡建设局"

    async def test_staff_sees_any_record(
        self, client: httpx.AsyncClient, auth: Any, accepted_case: Any
    ) -> None:
        response = await client.get(
            f"/api/v1/cases/{accepted_case.case_no}", headers=auth("staff-1", staff=True)
        )
        assert response.status_code == 200

    async def test_another_applicant_gets_404(
        self, client: httpx.AsyncClient, auth: Any, accepted_case: Any
    ) -> None:
        response = await client.get(f"/api/v1/cases/{accepted_case.case_no}", headers=auth("lisi"))
        assert response.status_code == 404
        assert response.json()["code"] == "case_not_found"

    async def test_unknown_case_is_404(self, client: httpx.AsyncClient, auth: Any) -> None:
        response = await client.get(
            "/api/v1/cases/530428202611239999990", headers=auth("staff-1", staff=True)
        )
        assert response.status_code == 404

    @pytest.mark.parametrize("bad", ["123", "53042820261123000001x", "5304282026112300000170"])
    async def test_malformed_case_no_is_422(self, client: httpx.AsyncClient, auth: Any, bad: str) -> None:
        response = await client.get(f"/api/v1/cases/{bad}", headers=auth("staff-1", staff=True))
        assert response.status_code == 422

    async def test_without_token_is_401(self, client: httpx.AsyncClient, accepted_case: Any) -> None:
        response = await client.get(f"/api/v1/cases/{accepted_case.case_no}")
        assert response.status_code == 401
