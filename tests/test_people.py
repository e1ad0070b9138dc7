"""Citizens and companies across the portal and data-sharing (issue 8): sign-up verified against
the real base registries over REST, clear 4xx for bad numbers and mismatches, pre-fill, my
licences, and the registry's record of every lookup. Both apps in-process, real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import yiwang_datasharing
import yiwang_gateway
from yiwang_common.config import DatabaseSettings
from yiwang_common.contracts.common import ELicence, Organisation
from yiwang_common.db import session_scope
from yiwang_common.migrations import upgrade_database
from yiwang_common.testing import create_database, drop_database, ephemeral_auth, nats_url
from yiwang_datasharing.config import Settings as DataSharingSettings
from yiwang_datasharing.licence.service import licence_service
from yiwang_datasharing.main import create_app as create_datasharing
from yiwang_datasharing.registry.files import Registry
from yiwang_datasharing.registry.loading import DEMO_DIR, load_file
from yiwang_datasharing.registry.models import RegistryLookup
from yiwang_gateway.account import registry as gateway_registry
from yiwang_gateway.config import Settings as GatewaySettings
from yiwang_gateway.main import create_app as create_gateway

WANGWU = {
    "username": "wangwu",
    "password": "correct-horse-9",
    "name": "王五",
    "id_number": "530428199203151232",
    "mobile": "13900000003",
}
COMPANY = {
    "username": "hhgny",
    "password": "correct-horse-9",
    "credit_code": "91530428MA6K000028",
    "name": "元江县红河谷农业开发有限公司",
    "legal_rep_name": "赵丽",
    "legal_rep_id_number": "530428198808084568",
    "mobile": "13900000004",
}


@dataclass
class Portal:
    gateway: httpx.AsyncClient
    datasharing_sessions: async_sessionmaker[AsyncSession]
    gateway_sessions: async_sessionmaker[AsyncSession]
    licence_signer: Any = None


async def _database(service: str, package: Any) -> str:
    url = await create_database(f"yiwang_test_people_{service}")
    await upgrade_database(
        DatabaseSettings(url=url, schema_name=service), Path(package.__file__).parent / "migrations"
    )
    return url


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Portal]:
    tmp_path = tmp_path_factory.mktemp("people")
    ds_url = await _database("datasharing", yiwang_datasharing)
    gw_url = await _database("gateway", yiwang_gateway)
    auth = ephemeral_auth()
    ds_settings = DataSharingSettings(
        database=DatabaseSettings(url=ds_url), blob_dir=tmp_path / "blobs", run_workers=False, auth=auth
    )
    for registry in Registry:
        job = await load_file(ds_settings, registry, DEMO_DIR / f"{registry.value}.csv", started_by="test")
        assert job.status == "completed" and job.error_count == 0
    datasharing = create_datasharing(ds_settings)
    gateway = create_gateway(
        GatewaySettings(
            database={"url": gw_url, "schema_name": "gateway"},
            nats={"url": nats_url()},
            run_workers=False,
            env="test",
            auth=auth,
        )
    )
    # The portal's registry client talks HTTP to the real data-sharing app (in-process, no socket).
    setattr(gateway.state, gateway_registry.TRANSPORT_STATE_KEY, httpx.ASGITransport(app=datasharing))
    try:
        async with datasharing.router.lifespan_context(datasharing), gateway.router.lifespan_context(gateway):
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=gateway), base_url="http://g"
            ) as g:
                yield Portal(
                    g,
                    datasharing.state.sessionmaker,
                    gateway.state.sessionmaker,
                    datasharing.state.licence_signer,
                )
    finally:
        await drop_database(gw_url)
        await drop_database(ds_url)


async def _token(g: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    r = await g.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def _lookups(sm: async_sessionmaker[AsyncSession]) -> list[RegistryLookup]:
    async with sm() as session:
        return list((await session.execute(select(RegistryLookup).order_by(RegistryLookup.id))).scalars())


@pytest.fixture
async def portal(stack: Portal) -> Portal:
    """The module's two apps, with no accounts, lookups or licences left by an earlier test."""
    gateway_sessions: async_sessionmaker[AsyncSession] = stack.gateway_sessions
    async with session_scope(gateway_sessions) as session:
        await session.execute(text("TRUNCATE account, agent_authorisation, login_throttle CASCADE"))
    async with session_scope(stack.datasharing_sessions) as session:
        await session.execute(text("TRUNCATE registry_lookup, e_licence"))
    return stack


class TestNaturalPersonSignUp:
    async def test_verified_sign_up_is_l2_and_the_lookup_is_on_record(self, portal: Portal) -> None:
        r = await portal.gateway.post("/api/v1/registrations/natural-persons", json=WANGWU)
        assert r.status_code == 201, r.text
        assert r.json()["realname_level"] == "L2" and r.json()["kind"] == "natural_person"
        headers = await _token(portal.gateway, "wangwu", WANGWU["password"])
        me = (await portal.gateway.get("/api/v1/me", headers=headers)).json()
        assert me["realname_level"] == "L2" and me["id_number_masked"] == "530428********1232"
        assert me["phone"] == "139****0003"
        [lookup] = await _lookups(portal.datasharing_sessions)
        assert (lookup.caller_sub, lookup.caller_kind, lookup.on_behalf_of) == (
            "gateway",
            "service",
            "sign-up:wangwu",
        )
        assert lookup.key_masked == "530428********1232" and lookup.matched

    async def test_bad_id_number_is_a_clear_422_and_never_reaches_the_registry(self, portal: Portal) -> None:
        for number, words in (("530428199203151233", "校验码"), ("53042819920315123", "18 位")):
            r = await portal.gateway.post(
                "/api/v1/registrations/natural-persons", json={**WANGWU, "id_number": number}
            )
            assert r.status_code == 422 and r.json()["code"] == "invalid_id_number", r.text
            assert words in r.json()["detail"]
        assert await _lookups(portal.datasharing_sessions) == []

    async def test_registry_mismatch_is_422_without_saying_which_field(self, portal: Portal) -> None:
        r = await portal.gateway.post(
            "/api/v1/registrations/natural-persons", json={**WANGWU, "name": "王六"}
        )
        assert r.status_code == 422 and r.json()["code"] == "registry_mismatch"
        unknown = {**WANGWU, "id_number": "530428199013011239", "name": "王五"}
        r2 = await portal.gateway.post("/api/v1/registrations/natural-persons", json=unknown)
        assert r2.json()["code"] == "registry_mismatch" and r2.json()["detail"] == r.json()["detail"]
        # Nothing was created: signing in with it fails.
        r = await portal.gateway.post(
            "/api/v1/auth/token", json={"username": "wangwu", "password": WANGWU["password"]}
        )
        assert r.status_code == 401

    async def test_one_account_per_person_and_per_user_name(self, portal: Portal) -> None:
        assert (
            await portal.gateway.post("/api/v1/registrations/natural-persons", json=WANGWU)
        ).status_code == 201
        r = await portal.gateway.post(
            "/api/v1/registrations/natural-persons", json={**WANGWU, "username": "wangwu2"}
        )
        assert r.status_code == 409 and r.json()["code"] == "identity_registered"
        other = {**WANGWU, "id_number": "530428200002203214", "name": "刘洋"}
        r = await portal.gateway.post("/api/v1/registrations/natural-persons", json=other)
        assert r.status_code == 409 and r.json()["code"] == "username_taken"

    async def test_weak_input_is_refused_by_the_schema(self, portal: Portal) -> None:
        for bad in ({"password": "short"}, {"mobile": "12345"}, {"username": "a b"}):
            r = await portal.gateway.post("/api/v1/registrations/natural-persons", json={**WANGWU, **bad})
            assert r.status_code == 422, bad

    async def test_registry_record_prefills_forms(self, portal: Portal) -> None:
        await portal.gateway.post("/api/v1/registrations/natural-persons", json=WANGWU)
        headers = await _token(portal.gateway, "wangwu", WANGWU["password"])
        r = await portal.gateway.get("/api/v1/me/registry-record", headers=headers)
        assert r.status_code == 200 and r.json()["address"].startswith("云南省玉溪市元江县甘庄街道")


class TestLegalPersonSignUp:
    async def test_verified_company_signs_up_and_its_representative_acts_for_it(self, portal: Portal) -> None:
        r = await portal.gateway.post(
            "/api/v1/registrations/legal-persons/prefill", json={"credit_code": COMPANY["credit_code"]}
        )
        assert (
            r.status_code == 200
            and r.json()["name"] == COMPANY["name"]
            and r.json()["legal_rep_name"] == "赵*"
        )
        r = await portal.gateway.post("/api/v1/registrations/legal-persons", json=COMPANY)
        assert r.status_code == 201, r.text
        company = await _token(portal.gateway, "hhgny", COMPANY["password"])
        me = (await portal.gateway.get("/api/v1/me", headers=company)).json()
        assert me["kind"] == "legal_person" and me["legal_rep_name"] == "赵*"
        rep = {
            "username": "zhaoli",
            "password": "correct-horse-9",
            "name": "赵丽",
            "id_number": COMPANY["legal_rep_id_number"],
            "mobile": "13900000005",
        }
        assert (
            await portal.gateway.post("/api/v1/registrations/natural-persons", json=rep)
        ).status_code == 201
        zhao = await _token(portal.gateway, "zhaoli", rep["password"])
        r = await portal.gateway.post(
            "/api/v1/auth/acting-for", json={"credit_code": COMPANY["credit_code"]}, headers=zhao
        )
        assert r.status_code == 200 and r.json()["role"] == "legal_representative"

    async def test_bad_credit_code_is_a_clear_422(self, portal: Portal) -> None:
        for code in ("91530428MA6K000029", "91530428MA6K00002", "91530428MA6K00002I"):
            r = await portal.gateway.post(
                "/api/v1/registrations/legal-persons", json={**COMPANY, "credit_code": code}
            )
            assert r.status_code == 422 and r.json()["code"] == "invalid_credit_code", (code, r.text)
        r = await portal.gateway.post(
            "/api/v1/registrations/legal-persons/prefill", json={"credit_code": "91530428MA6K000029"}
        )
        assert r.status_code == 422

    async def test_bad_representative_number_and_mismatches_are_422(self, portal: Portal) -> None:
        r = await portal.gateway.post(
            "/api/v1/registrations/legal-persons",
            json={**COMPANY, "legal_rep_id_number": "530428198808084569"},
        )
        assert r.status_code == 422 and r.json()["code"] == "invalid_id_number"
        for field, value in (
            ("legal_rep_name", "张三"),
            ("name", "元江县某公司"),
            ("legal_rep_id_number", "530428199001011231"),
        ):
            r = await portal.gateway.post(
                "/api/v1/registrations/legal-persons", json={**COMPANY, field: value}
            )
            assert r.status_code == 422 and r.json()["code"] == "registry_mismatch", field

    async def test_unknown_company_prefill_is_404(self, portal: Portal) -> None:
        r = await portal.gateway.post(
            "/api/v1/registrations/legal-persons/prefill", json={"credit_code": "91530428MA6K00004D"}
        )
        assert r.status_code in (404, 422)


class TestMyLicences:
    async def test_my_licences_lists_what_data_sharing_holds_for_me(self, portal: Portal) -> None:
        await portal.gateway.post("/api/v1/registrations/natural-persons", json=WANGWU)
        org = Organisation(name="元江县住房和城乡建设局", code="11530428015176456L")
        licence = ELicence(
            identifier="1.2.156.3005.2.11100000000013338W032.11530428015176456L.20261123000001.001.Z",
            type_code="11100000000013338W032",
            type_name="建筑工程施工许可证",
            licence_no="530428202611230101",
            holder_name="王五",
            holder_code=WANGWU["id_number"],
            holder_code_type="111",
            issuer=org,
            issued_on=date(2026, 11, 30),
            valid_from=date(2026, 11, 30),
            jurisdiction_code="530428",
            case_no="53042820261123000001E",
            item_code="11530428015176456L2000109003000",
        )
        async with session_scope(portal.datasharing_sessions) as session:
            await licence_service.register(
                session,
                portal.licence_signer,
                licence=licence,
                registered_at=datetime(2026, 11, 30, tzinfo=UTC),
                source="urn:yiwang:530428:datasharing",
            )
        headers = await _token(portal.gateway, "wangwu", WANGWU["password"])
        r = await portal.gateway.get("/api/v1/me/held-licences", headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["holder_code_masked"] == "530428********1232"
        assert [(i["type_name"], i["holder_name"]) for i in body["items"]] == [("建筑工程施工许可证", "王*")]
        # Someone else sees none of it.
        await portal.gateway.post(
            "/api/v1/registrations/natural-persons",
            json={**WANGWU, "username": "liuyang", "name": "刘洋", "id_number": "530428200002203214"},
        )
        other = await _token(portal.gateway, "liuyang", WANGWU["password"])
        assert (await portal.gateway.get("/api/v1/me/held-licences", headers=other)).json()["items"] == []
