"""Deny by default on management's cases: unit × region for handling staff, the region for
supervisors, a reason for administrators (and every read of a case's applicant is audited)."""

from __future__ import annotations

from urllib.parse import quote

import httpx
from management_factories import ORG_CODE, auth
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.auth import Principal
from yiwang_common.testing import outbox_events
from yiwang_management.db import messaging

AUDIT = "yiwang.management.audit.recorded.v1"


def staff(role: str, *, region: str | None, org: str | None = ORG_CODE, sub: str = "s") -> Principal:
    return Principal(sub=sub, name=role, kind="staff", roles=frozenset({role}), org_code=org, region=region)


class TestUnitAndRegion:
    async def test_the_same_unit_in_another_region_sees_nothing_and_cannot_act(
        self, client: httpx.AsyncClient, case_no: str
    ) -> None:
        elsewhere = auth(staff("acceptor", region="530100"))
        assert (await client.get("/cases", headers=elsewhere)).json()["items"] == []
        assert (await client.get(f"/cases/{case_no}", headers=elsewhere)).status_code == 404
        assert (await client.post(f"/cases/{case_no}/accept", json={}, headers=elsewhere)).status_code == 404
        here = auth(staff("acceptor", region="530428"))
        assert [c["case_no"] for c in (await client.get("/cases", headers=here)).json()["items"]] == [case_no]

    async def test_a_parent_regions_supervisor_reads_every_unit_and_another_region_none(
        self, client: httpx.AsyncClient, case_no: str
    ) -> None:
        city = auth(staff("supervisor", region="530400", org="11530400MB7654321Y"))
        assert [c["case_no"] for c in (await client.get("/cases", headers=city)).json()["items"]] == [case_no]
        assert (await client.get(f"/cases/{case_no}", headers=city)).status_code == 200
        other = auth(staff("supervisor", region="530100", org="11530100MB1111111K"))
        assert (await client.get("/cases", headers=other)).json()["items"] == []
        assert (await client.get(f"/cases/{case_no}", headers=other)).status_code == 404

    async def test_staff_without_a_region_or_unit_read_nothing(
        self, client: httpx.AsyncClient, case_no: str
    ) -> None:
        no_unit = auth(staff("acceptor", region="530428", org=None))
        assert (await client.get("/cases", headers=no_unit)).json()["items"] == []
        # No region claim and a unit code without one: nothing either.
        bad_unit = auth(staff("acceptor", region=None, org="SHORT"))
        assert (await client.get(f"/cases/{case_no}", headers=bad_unit)).status_code == 404


class TestAdministratorsAndAudit:
    async def test_admin_without_a_reason_is_refused_and_with_one_reads_and_is_audited(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], case_no: str
    ) -> None:
        admin = staff("admin", region="530428", sub="gly")
        for url in ("/cases", f"/cases/{case_no}"):
            response = await client.get(url, headers=auth(admin))
            assert response.status_code == 403 and response.json()["code"] == "reason_required"
            assert "张三" not in response.text
        assert await outbox_events(sessionmaker, messaging.outbox, AUDIT) == []
        reason = "投诉件 2026-031 核查"
        response = await client.get(
            f"/cases/{case_no}", headers={**auth(admin), "X-Access-Reason": quote(reason)}
        )
        assert response.status_code == 200 and response.json()["applicant"]["name"] == "张三"
        listed = await client.get("/cases", params={"reason": reason}, headers=auth(admin))
        assert [c["case_no"] for c in listed.json()["items"]] == [case_no]
        audits = [e["data"] for _, e in await outbox_events(sessionmaker, messaging.outbox, AUDIT)]
        assert [(a["target_type"], a["actor_id"], a["reason"]) for a in audits] == [
            ("case", "gly", reason),
            ("case_list", "gly", reason),
        ]
        assert audits[1]["detail"]["cases"] == [case_no]

    async def test_a_staff_read_of_a_case_is_audited_without_a_reason(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], case_no: str
    ) -> None:
        acceptor = staff("acceptor", region="530428", sub="ck")
        assert (await client.get(f"/cases/{case_no}", headers=auth(acceptor))).status_code == 200
        (audit,) = [e["data"] for _, e in await outbox_events(sessionmaker, messaging.outbox, AUDIT)]
        assert audit["action"] == "personal_data_read" and audit["region_code"] == "530428"
        assert audit["actor_roles"] == ["acceptor"] and audit["reason"] is None
