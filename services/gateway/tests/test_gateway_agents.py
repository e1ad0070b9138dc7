"""经办人: acting for a legal person within the scope and dates of an authorisation; who acted for
whom on the case; a citizen who cannot see another's cases or materials (real PostgreSQL)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from gateway_support import FORM, ITEM_CODE, Accounts, upload
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.auth import Principal, TokenIssuer
from yiwang_common.contracts.management import ItemPublished
from yiwang_common.db import session_scope
from yiwang_common.testing import outbox_events
from yiwang_gateway.account.agents import today
from yiwang_gateway.account.models import Account, AgentAuthorisation
from yiwang_gateway.application.models import Application
from yiwang_gateway.db import messaging

USCC = "91530428MA6K000015"
WANGWU_ID = "530428199203151232"


@dataclass
class People:
    accounts: Accounts
    wangwu: Account


@pytest.fixture
async def people(
    accounts: Accounts, sessionmaker: async_sessionmaker[AsyncSession], demo_hash: str
) -> People:
    wangwu = Account(
        id=uuid.uuid4(),
        username="wangwu",
        password_hash=demo_hash,
        kind="natural_person",
        name="王五",
        id_type="111",
        id_number=WANGWU_ID,
        roles=["applicant"],
        active=True,
        realname_level="L2",
    )
    async with session_scope(sessionmaker) as session:
        session.add(wangwu)
        await session.execute(
            update(Account)
            .where(Account.id == accounts.yjcj.id)
            .values(legal_rep_name="张三", legal_rep_id_number="530428199001011231", realname_level="L2")
        )
        await session.execute(
            update(Account).where(Account.kind == "natural_person").values(realname_level="L2")
        )
    return People(accounts, wangwu)


def _grant(**overrides: Any) -> dict[str, Any]:
    return {
        "agent_name": "王五",
        "agent_id_number": WANGWU_ID,
        "actions": ["apply", "view"],
        "item_codes": [],
        "valid_from": today().isoformat(),
        "valid_until": (today() + timedelta(days=30)).isoformat(),
    } | overrides


async def _act_for(client: httpx.AsyncClient, headers: dict[str, str], code: str = USCC) -> httpx.Response:
    return await client.post("/api/v1/auth/acting-for", json={"credit_code": code}, headers=headers)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _app_body(sha: str | None = None, item_code: str = ITEM_CODE) -> dict[str, Any]:
    materials = [{"material_code": "M01", "sha256": sha}] if sha else []
    return {"item_code": item_code, "form": FORM, "materials": materials}


class TestGrantAndRevoke:
    async def test_legal_person_grants_lists_and_revokes(
        self, client: httpx.AsyncClient, people: People, auth: Any
    ) -> None:
        company = auth(people.accounts.yjcj)
        r = await client.post("/api/v1/me/agents", json=_grant(), headers=company)
        assert r.status_code == 201, r.text
        grant = r.json()
        assert grant["status"] == "active" and grant["agent_id_number_masked"] == "530428********1232"
        listed = (await client.get("/api/v1/me/agents", headers=company)).json()
        assert [a["id"] for a in listed] == [grant["id"]]
        assert (await client.delete(f"/api/v1/me/agents/{grant['id']}", headers=company)).status_code == 204
        listed = (await client.get("/api/v1/me/agents", headers=company)).json()
        assert listed[0]["status"] == "revoked"

    async def test_only_the_legal_person_or_its_representative_manages_agents(
        self, client: httpx.AsyncClient, people: People, auth: Any
    ) -> None:
        r = await client.post("/api/v1/me/agents", json=_grant(), headers=auth(people.accounts.lisi))
        assert r.status_code == 403 and r.json()["code"] == "not_legal_representative"
        # 张三 is the 法定代表人: acting for the company, he may grant.
        token = (await _act_for(client, auth(people.accounts.zhangsan))).json()
        assert token["role"] == "legal_representative"
        r = await client.post("/api/v1/me/agents", json=_grant(), headers=_bearer(token["access_token"]))
        assert r.status_code == 201
        # An agent cannot pass the authority on.
        agent_token = (await _act_for(client, auth(people.wangwu))).json()["access_token"]
        r = await client.post(
            "/api/v1/me/agents", json=_grant(agent_name="李四"), headers=_bearer(agent_token)
        )
        assert r.status_code == 403 and r.json()["code"] == "not_legal_representative"

    async def test_agent_must_be_a_registered_real_name_person(
        self, client: httpx.AsyncClient, people: People, auth: Any
    ) -> None:
        company = auth(people.accounts.yjcj)
        r = await client.post("/api/v1/me/agents", json=_grant(agent_name="王六"), headers=company)
        assert r.status_code == 422 and r.json()["code"] == "agent_not_registered"
        r = await client.post(
            "/api/v1/me/agents", json=_grant(agent_id_number="530428199203151233"), headers=company
        )
        assert r.status_code == 422 and r.json()["code"] == "invalid_id_number"
        r = await client.post(
            "/api/v1/me/agents",
            json=_grant(valid_until=(today() - timedelta(days=1)).isoformat()),
            headers=company,
        )
        assert r.status_code == 422 and r.json()["code"] == "authorisation_dates_invalid"
        r = await client.post("/api/v1/me/agents", json=_grant(actions=["sign"]), headers=company)
        assert r.status_code == 422


class TestActingFor:
    async def test_token_carries_the_claims_and_the_case_records_who_acted_for_whom(
        self,
        client: httpx.AsyncClient,
        people: People,
        auth: Any,
        item: ItemPublished,
        issuer: TokenIssuer,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        await client.post(
            "/api/v1/me/agents", json=_grant(actions=["apply", "view"]), headers=auth(people.accounts.yjcj)
        )
        r = await _act_for(client, auth(people.wangwu))
        assert r.status_code == 200, r.text
        token = r.json()
        assert token["acting_for"] == USCC and token["agent_scopes"] == ["apply", "view"]
        headers = _bearer(token["access_token"])
        me = (await client.get("/api/v1/me", headers=headers)).json()
        assert me["acting_for"] == USCC and me["agent_scopes"] == ["apply", "view"]
        sha = await upload(client, headers)
        r = await client.post("/api/v1/applications", json=_app_body(sha), headers=headers)
        assert r.status_code == 202, r.text
        async with session_scope(sessionmaker) as session:
            app = (await session.execute(select(Application))).scalar_one()
        assert app.applicant_id == str(people.accounts.yjcj.id)
        assert (
            app.applicant["name"] == "元江县城市建设投资有限公司" and app.applicant["kind"] == "legal_person"
        )
        assert app.agent is not None and app.agent["account_id"] == str(people.wangwu.id)
        [(_, event)] = await outbox_events(sessionmaker, messaging.outbox)
        assert event["data"]["applicant"]["id_number"] == USCC
        assert event["data"]["agent"] == {
            "account_id": str(people.wangwu.id),
            "name": "王五",
            "id_number_masked": "530428********1232",
            "authorisation_id": app.agent["authorisation_id"],
            "role": "agent",
        }
        # The company sees the case its agent filed; the agent, acting for it, too.
        company_cases = (await client.get("/api/v1/me/cases", headers=auth(people.accounts.yjcj))).json()
        assert [c["application_id"] for c in company_cases["items"]] == [str(app.id)]
        agent_cases = (await client.get("/api/v1/applications", headers=headers)).json()
        assert [c["application_id"] for c in agent_cases["items"]] == [str(app.id)]
        # As himself, the agent has no cases: they are the company's.
        own = (await client.get("/api/v1/me/cases", headers=auth(people.wangwu))).json()
        assert own["items"] == []

    async def test_agent_beyond_their_authority_gets_a_clear_403(
        self, client: httpx.AsyncClient, people: People, auth: Any, item: ItemPublished
    ) -> None:
        await client.post(
            "/api/v1/me/agents", json=_grant(actions=["view"]), headers=auth(people.accounts.yjcj)
        )
        headers = _bearer((await _act_for(client, auth(people.wangwu))).json()["access_token"])
        r = await client.post("/api/v1/applications", json=_app_body(), headers=headers)
        assert r.status_code == 403
        problem = r.json()
        assert problem["code"] == "agent_beyond_authority" and "申请" in problem["detail"]
        assert r.headers["content-type"].startswith("application/problem+json")
        r = await client.post(
            "/api/v1/materials", files={"file": ("f.pdf", b"%PDF-1.7 x", "application/pdf")}, headers=headers
        )
        assert r.status_code == 403 and r.json()["code"] == "agent_beyond_authority"
        assert (await client.get("/api/v1/me/cases", headers=headers)).status_code == 200

    async def test_agent_limited_to_some_items_cannot_apply_for_others(
        self, client: httpx.AsyncClient, people: People, auth: Any, item: ItemPublished
    ) -> None:
        grant = _grant(actions=["apply", "view"], item_codes=["11530428015176456L2000109009999"])
        await client.post("/api/v1/me/agents", json=grant, headers=auth(people.accounts.yjcj))
        token = (await _act_for(client, auth(people.wangwu))).json()
        assert "item:11530428015176456L2000109009999" in token["agent_scopes"]
        r = await client.post(
            "/api/v1/applications", json=_app_body(), headers=_bearer(token["access_token"])
        )
        assert r.status_code == 403 and r.json()["code"] == "agent_beyond_authority"
        assert ITEM_CODE in r.json()["detail"]

    async def test_expired_authorisation_is_refused_even_with_a_token_in_hand(
        self,
        client: httpx.AsyncClient,
        people: People,
        auth: Any,
        item: ItemPublished,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        await client.post("/api/v1/me/agents", json=_grant(), headers=auth(people.accounts.yjcj))
        headers = _bearer((await _act_for(client, auth(people.wangwu))).json()["access_token"])
        async with session_scope(sessionmaker) as session:
            await session.execute(
                update(AgentAuthorisation).values(
                    valid_from=date(2025, 1, 1), valid_until=today() - timedelta(days=1)
                )
            )
        r = await client.post("/api/v1/applications", json=_app_body(), headers=headers)
        assert r.status_code == 403 and r.json()["code"] == "agent_authorisation_expired"
        r = await _act_for(client, auth(people.wangwu))
        assert r.status_code == 403 and r.json()["code"] == "agent_authorisation_expired"

    async def test_revoked_authorisation_takes_effect_at_once(
        self, client: httpx.AsyncClient, people: People, auth: Any, item: ItemPublished
    ) -> None:
        grant = (
            await client.post("/api/v1/me/agents", json=_grant(), headers=auth(people.accounts.yjcj))
        ).json()
        headers = _bearer((await _act_for(client, auth(people.wangwu))).json()["access_token"])
        await client.delete(f"/api/v1/me/agents/{grant['id']}", headers=auth(people.accounts.yjcj))
        r = await client.get("/api/v1/applications", headers=headers)
        assert r.status_code == 403 and r.json()["code"] == "not_authorised_agent"

    async def test_nobody_acts_for_a_company_without_an_authorisation(
        self, client: httpx.AsyncClient, people: People, auth: Any, issuer: TokenIssuer
    ) -> None:
        r = await _act_for(client, auth(people.accounts.lisi))
        assert r.status_code == 403 and r.json()["code"] == "not_authorised_agent"
        r = await _act_for(client, auth(people.accounts.lisi), code="91530428MA6K000016")
        assert r.status_code == 422 and r.json()["code"] == "invalid_credit_code"
        # A hand-made token claiming to act for the company changes nothing: the grant is checked.
        forged = Principal(
            sub=str(people.accounts.lisi.id),
            name="李四",
            kind="natural_person",
            roles=frozenset({"applicant"}),
            acting_for=USCC,
            agent_scopes=frozenset({"apply", "view"}),
        )
        r = await client.get("/api/v1/applications", headers=_bearer(issuer.issue(forged)))
        assert r.status_code == 403 and r.json()["code"] == "not_authorised_agent"

    async def test_companies_lists_what_one_may_act_for(
        self, client: httpx.AsyncClient, people: People, auth: Any
    ) -> None:
        await client.post("/api/v1/me/agents", json=_grant(), headers=auth(people.accounts.yjcj))
        mine = (await client.get("/api/v1/me/companies", headers=auth(people.wangwu))).json()
        assert [(c["credit_code"], c["role"]) for c in mine] == [(USCC, "agent")]
        rep = (await client.get("/api/v1/me/companies", headers=auth(people.accounts.zhangsan))).json()
        assert [(c["credit_code"], c["role"]) for c in rep] == [(USCC, "legal_representative")]
        assert (await client.get("/api/v1/me/companies", headers=auth(people.accounts.lisi))).json() == []


class TestOwnDataOnly:
    async def test_a_citizen_cannot_read_anothers_cases_or_materials(
        self, client: httpx.AsyncClient, people: People, auth: Any, item: ItemPublished
    ) -> None:
        zhang = auth(people.accounts.zhangsan)
        sha = await upload(client, zhang)
        app_id = (await client.post("/api/v1/applications", json=_app_body(sha), headers=zhang)).json()[
            "application_id"
        ]
        li = auth(people.accounts.lisi)
        assert (await client.get(f"/api/v1/applications/{app_id}", headers=li)).status_code == 404
        assert (await client.get("/api/v1/me/cases", headers=li)).json()["items"] == []
        assert (await client.get("/api/v1/me/materials", headers=li)).json()["items"] == []
        # 李四 cannot use 张三's upload in an application of his own either.
        r = await client.post("/api/v1/applications", json=_app_body(sha), headers=li)
        assert r.status_code == 422 and r.json()["code"] == "material_not_uploaded"

    async def test_an_earlier_upload_is_listed_and_reused_in_a_new_application(
        self, client: httpx.AsyncClient, people: People, auth: Any, item: ItemPublished
    ) -> None:
        zhang = auth(people.accounts.zhangsan)
        sha = await upload(client, zhang)
        first = await client.post("/api/v1/applications", json=_app_body(sha), headers=zhang)
        assert first.status_code == 202
        materials = (await client.get("/api/v1/me/materials", headers=zhang)).json()
        assert [m["sha256"] for m in materials["items"]] == [sha]
        again = await client.post(
            "/api/v1/applications", json=_app_body(materials["items"][0]["sha256"]), headers=zhang
        )
        assert again.status_code == 202
        assert (await client.get("/api/v1/me/cases", headers=zhang)).json()["pagination"]["total_count"] == 2

    async def test_profile_is_masked(self, client: httpx.AsyncClient, people: People, auth: Any) -> None:
        me = (await client.get("/api/v1/me", headers=auth(people.accounts.yjcj))).json()
        assert me["id_number_masked"] == USCC  # a credit code is public
        assert me["legal_rep_name"] == "张*" and me["realname_level"] == "L2"
