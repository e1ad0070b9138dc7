"""The audit log: fed by every service's audit events, append-only in PostgreSQL, read by supervisors
of the region; an administrator reads personal data only with a reason, and the read is logged."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common import testing
from yiwang_common.audit import audit_fields
from yiwang_common.auth import Principal
from yiwang_common.contracts import business, gateway, management
from yiwang_common.db import session_scope
from yiwang_common.events import EventData, make_event

SUPERVISOR_530428 = Principal(
    sub="jc-yj", name="元江监察", kind="staff", roles=frozenset({"supervisor"}), region="530428"
)
SUPERVISOR_530400 = Principal(
    sub="jc-yx", name="玉溪监察", kind="staff", roles=frozenset({"supervisor"}), region="530400"
)
SUPERVISOR_530100 = Principal(
    sub="jc-km", name="昆明监察", kind="staff", roles=frozenset({"supervisor"}), region="530100"
)
ADMIN = Principal(
    sub="gl-yj", name="中心管理员", kind="staff", roles=frozenset({"admin"}), org_code="11530428015176456L"
)


def _event(contract: type[EventData], region: str, target: str, action: str = "permission_changed") -> Any:
    fields = audit_fields(action=action, region_code=region, target_type="staff_member", target_id=target)
    return contract.model_validate(fields.model_dump())


async def _entries(client: httpx.AsyncClient, who: Principal, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(
        "/api/v1/audit-entries", params={"limit": 100, **params}, headers=testing.bearer(who)
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


class TestFedByEveryService:
    @pytest.mark.parametrize(
        "contract", [gateway.AuditRecorded, management.AuditRecorded, business.AuditRecorded]
    )
    async def test_each_producers_event_becomes_one_entry_even_when_replayed(
        self, deliver: Any, client: httpx.AsyncClient, contract: type[EventData]
    ) -> None:
        target = uuid.uuid4().hex
        data = _event(contract, "530428", target)
        env = make_event(data, source="urn:yiwang:530428:x", subject=target)
        await deliver(data, env=env)
        await deliver(data, env=env)
        (entry,) = await _entries(client, SUPERVISOR_530428, target_id=target)
        assert entry["service"] == contract.producer()
        assert entry["action"] == "permission_changed"


class TestSupervisorsReadTheirRegion:
    async def test_region_filter(self, deliver: Any, client: httpx.AsyncClient) -> None:
        county, city = uuid.uuid4().hex, uuid.uuid4().hex
        await deliver(_event(management.AuditRecorded, "530428", county))
        await deliver(_event(management.AuditRecorded, "530402", city))
        assert [e["target_id"] for e in await _entries(client, SUPERVISOR_530428, target_id=county)] == [
            county
        ]
        assert await _entries(client, SUPERVISOR_530428, target_id=city) == []
        # 玉溪市 covers both of its counties; 昆明市 neither.
        assert len(await _entries(client, SUPERVISOR_530400, target_id=county)) == 1
        assert len(await _entries(client, SUPERVISOR_530400, target_id=city)) == 1
        assert await _entries(client, SUPERVISOR_530100, target_id=county) == []

    @pytest.mark.parametrize("role", ["admin", "acceptor", "reviewer", "approver"])
    async def test_only_supervisors_read_it(self, client: httpx.AsyncClient, role: str) -> None:
        who = Principal(sub="x", name="x", kind="staff", roles=frozenset({role}), region="530428")
        response = await client.get("/api/v1/audit-entries", headers=testing.bearer(who))
        assert response.status_code == 403
        assert (await client.get("/api/v1/audit-entries")).status_code == 401

    async def test_a_supervisor_without_a_region_is_refused(self, client: httpx.AsyncClient) -> None:
        who = Principal(sub="x", name="x", kind="staff", roles=frozenset({"supervisor"}))
        assert (await client.get("/api/v1/audit-entries", headers=testing.bearer(who))).status_code == 403

    async def test_bad_filters_are_422(self, client: httpx.AsyncClient) -> None:
        for params in ({"action": "drop table"}, {"since": "yesterday"}, {"limit": 0}):
            response = await client.get(
                "/api/v1/audit-entries", params=params, headers=testing.bearer(SUPERVISOR_530428)
            )
            assert response.status_code == 422, params


class TestAppendOnly:
    @pytest.mark.parametrize(
        "statement",
        ["UPDATE audit_entry SET reason = 'x'", "DELETE FROM audit_entry", "TRUNCATE audit_entry"],
    )
    async def test_postgres_refuses_changes(
        self, deliver: Any, sessionmaker: async_sessionmaker[AsyncSession], statement: str
    ) -> None:
        await deliver(_event(gateway.AuditRecorded, "530428", uuid.uuid4().hex, action="sign_in"))
        with pytest.raises(DBAPIError, match="append-only"):
            async with session_scope(sessionmaker) as session:
                await session.execute(text(statement))
        async with sessionmaker() as session:
            assert (await session.execute(text("SELECT count(*) FROM audit_entry"))).scalar_one() >= 1


class TestPersonalDataReads:
    async def test_admin_without_reason_is_denied_everything_personal(
        self, client: httpx.AsyncClient, case: Any
    ) -> None:
        headers = testing.bearer(ADMIN)
        for url in (
            f"/api/v1/cases/{case.case_no}",
            "/api/v1/cases",
            f"/api/v1/materials/{case.sha256}",
            f"/api/v1/licences/{case.licence.identifier}",
        ):
            response = await client.get(url, headers=headers)
            assert response.status_code == 403, url
            assert response.json()["code"] == "reason_required"
            assert "530428199001011231" not in response.text

    async def test_admin_with_a_reason_reads_and_the_read_is_logged_with_it(
        self, client: httpx.AsyncClient, case: Any
    ) -> None:
        reason = "信访件 2026-17 核查"
        response = await client.get(
            f"/api/v1/cases/{case.case_no}",
            headers={**testing.bearer(ADMIN), "X-Access-Reason": quote(reason)},
        )
        assert response.status_code == 200
        (entry,) = await _entries(client, SUPERVISOR_530428, target_id=case.case_no, actor_id=ADMIN.sub)
        assert entry["action"] == "personal_data_read"
        assert entry["reason"] == reason
        assert entry["actor_roles"] == ["admin"]

    async def test_staff_reads_are_logged_and_applicant_reads_are_not(
        self, client: httpx.AsyncClient, auth: Any, case: Any
    ) -> None:
        assert (
            await client.get(f"/api/v1/cases/{case.case_no}", headers=auth("ck", staff=True))
        ).status_code == 200
        assert (
            await client.get(f"/api/v1/cases/{case.case_no}", headers=auth(case.applicant_id))
        ).status_code == 200
        entries = await _entries(client, SUPERVISOR_530428, target_id=case.case_no)
        assert [e["actor_id"] for e in entries] == ["ck"]
