"""E-licences through the portal: my licences with QR, the public verification page, 以证代材.

The real data-sharing app (its own database, its real handlers and signer) sits behind the real
gateway app (its own database); the gateway talks HTTP to it in-process. A licence is registered
the way data-sharing registers one: its handlers receive the applicant's submission and the
business system's decision.
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

import yiwang_datasharing
import yiwang_gateway
from yiwang_common.auth import Principal
from yiwang_common.checkdigits import mod37_36_check
from yiwang_common.config import DatabaseSettings
from yiwang_common.contracts.business import CaseDecided
from yiwang_common.contracts.common import (
    Applicant,
    DecisionDocument,
    ELicence,
    MaterialRequirement,
    Organisation,
    StepRecord,
)
from yiwang_common.contracts.gateway import ApplicationSubmitted
from yiwang_common.contracts.management import CaseRegistered, ItemPublished
from yiwang_common.db import session_scope
from yiwang_common.events import make_event
from yiwang_common.migrations import upgrade_database
from yiwang_common.testing import (
    bearer,
    create_database,
    drop_database,
    ephemeral_auth,
    nats_url,
    outbox_events,
)
from yiwang_datasharing.config import Settings as DataSharingSettings
from yiwang_datasharing.main import create_app as create_datasharing, event_source
from yiwang_datasharing.subscriptions import build_subscriptions
from yiwang_gateway.account.models import Account
from yiwang_gateway.catalogue.events import on_item_published
from yiwang_gateway.config import Settings as GatewaySettings
from yiwang_gateway.db import messaging as gateway_messaging
from yiwang_gateway.licence.throttle import SlidingWindow
from yiwang_gateway.main import create_app as create_gateway
from yiwang_gateway.material.client import TRANSPORT_STATE_KEY
from yiwang_gateway.progress.events import on_case_registered

ORG = Organisation(name="元江县住房和城乡建设局", code="11530428015176456L")
PERMIT_TYPE = "11100000000013338W032"
REUSING_ITEM = "11530428015176456L2000109004000"
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


@dataclass
class Portal:
    gateway: httpx.AsyncClient
    datasharing: httpx.AsyncClient
    gateway_app: Any
    datasharing_app: Any


async def _database(prefix: str, package: Any, schema: str) -> str:
    url = await create_database(prefix)
    settings = DatabaseSettings(url=url, schema_name=schema)
    await upgrade_database(settings, Path(package.__file__).parent / "migrations")
    return url


@pytest.fixture(scope="module")
async def portal() -> AsyncIterator[Portal]:
    ds_url = await _database("yiwang_test_licence_ds", yiwang_datasharing, "datasharing")
    gw_url = await _database("yiwang_test_licence_gw", yiwang_gateway, "gateway")
    datasharing = create_datasharing(
        DataSharingSettings(
            database={"url": ds_url, "schema_name": "datasharing"},
            run_workers=False,
            auth=ephemeral_auth(),
            licence_key_secret=base64.b64encode(os.urandom(32)).decode(),
        )
    )
    gateway = create_gateway(
        GatewaySettings(
            database={"url": gw_url, "schema_name": "gateway"},
            nats={"url": nats_url()},
            run_workers=False,
            env="test",
            auth=ephemeral_auth(),
            portal_url="https://portal.example.gov.cn",
        )
    )
    setattr(gateway.state, TRANSPORT_STATE_KEY, httpx.ASGITransport(app=datasharing))
    try:
        async with (
            datasharing.router.lifespan_context(datasharing),
            gateway.router.lifespan_context(gateway),
        ):
            async with (
                httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://g") as g,
                httpx.AsyncClient(transport=httpx.ASGITransport(app=datasharing), base_url="http://d") as d,
            ):
                async with session_scope(gateway.state.sessionmaker) as session:
                    envelope = make_event(reusing_item(), source="urn:yiwang:530428:management")
                    await on_item_published(session, envelope, reusing_item())
                yield Portal(g, d, gateway, datasharing)
    finally:
        await drop_database(gw_url)
        await drop_database(ds_url)


def reusing_item() -> ItemPublished:
    """An item whose 施工许可证 material data-sharing can supply (共享协同)."""
    return ItemPublished(
        item_code=REUSING_ITEM,
        basic_code="000109004000",
        name="建筑工程竣工验收备案",
        item_type="行政备案",
        version=1,
        implementing_org=ORG,
        region_code="530428",
        materials=[
            MaterialRequirement(code="M01", name="竣工验收报告", required=False),
            MaterialRequirement(code="M05", name="建筑工程施工许可证", shareable=True),
            MaterialRequirement(code="M06", name="建筑工程施工许可证复印件（须本人签字）", shareable=False),
        ],
        statutory_limit_days=15,
        promised_limit_days=5,
        form_schema={"type": "object", "properties": {"工程名称": {"type": "string"}}},
        published_at=T0,
    )


async def applicant(portal: Portal, name: str = "张三") -> tuple[Account, dict[str, str]]:
    account = Account(
        id=uuid.uuid4(),
        username=f"u{uuid.uuid4().hex[:10]}",
        password_hash="x",
        kind="natural_person",
        name=name,
        id_type="111",
        id_number=f"5304281990{random.randrange(10**8):08d}",
        roles=["applicant"],
        active=True,
    )
    async with session_scope(portal.gateway_app.state.sessionmaker) as session:
        session.add(account)
    principal = Principal(
        sub=str(account.id), name=name, kind="natural_person", roles=frozenset({"applicant"})
    )
    return account, bearer(principal)


async def issue_licence(portal: Portal, account: Account) -> ELicence:
    """Data-sharing's handlers see the submission and then the decision with its licence."""
    payload = "53042820261123" + f"{random.randrange(10**6):06d}"
    case_no = payload + mod37_36_check(payload)
    application_id = uuid.uuid4()
    serial = f"530428{random.randrange(10**12):012d}"
    check = mod37_36_check(PERMIT_TYPE + ORG.code + serial + "001")
    licence = ELicence(
        identifier=f"1.2.156.3005.2.{PERMIT_TYPE}.{ORG.code}.{serial}.001.{check}",
        type_code=PERMIT_TYPE,
        type_name="建筑工程施工许可证",
        licence_no=serial,
        holder_name=account.name,
        holder_code=str(account.id_number),
        holder_code_type="111",
        issuer=ORG,
        issued_on=date(2026, 11, 30),
        valid_from=date(2026, 11, 30),
        jurisdiction_code="530428",
        case_no=case_no,
        item_code="11530428015176456L2000109003000",
        data={"工程名称": "元江县第一中学教学楼"},
    )
    person = Applicant(
        account_id=str(account.id),
        name=account.name,
        kind="natural_person",
        id_type="111",
        id_number=str(account.id_number),
    )
    submitted = ApplicationSubmitted(
        application_id=application_id,
        item_code=licence.item_code,
        applicant=person,
        form={},
        materials=[],
        submitted_at=T0,
    )
    decided = CaseDecided(
        case_no=case_no,
        application_id=application_id,
        item_code=licence.item_code,
        outcome="approved",
        decision=DecisionDocument(
            document_no="元住建许〔2026〕第000001号",
            title="准予行政许可决定书",
            body="准予",
            decided_at=T0,
            decider_name="决定人",
            org=ORG,
        ),
        licence=licence,
        steps=[
            StepRecord(
                step_key="decide",
                step_name="决定",
                action="pass",
                handler_id="juece",
                handler_name="决定人",
                started_at=T0,
                ended_at=T0,
                org=ORG,
            )
        ],
    )
    app = portal.datasharing_app
    routes = {
        m: h
        for sub in build_subscriptions(event_source(app.state.settings), app.state.licence_signer)
        for m, h in sub.handlers.items()
    }
    for data in (submitted, decided):
        async with session_scope(app.state.sessionmaker) as session:
            envelope = make_event(data, source=f"urn:yiwang:530428:{data.producer()}", subject=case_no)
            await routes[type(data)](session, envelope, data)
    return licence


def approver() -> dict[str, str]:
    return bearer(
        Principal(sub="juece", name="决定人", kind="staff", roles=frozenset({"approver"}), org_code=ORG.code)
    )


async def revoke(portal: Portal, licence: ELicence, status: str = "revoked") -> None:
    r = await portal.datasharing.post(
        f"/api/v1/licences/{licence.identifier}/status",
        json={"status": status, "reason": "以欺骗手段取得许可"},
        headers=approver(),
    )
    assert r.status_code == 200, r.text


class TestMyLicences:
    async def test_holder_sees_licence_with_qr_to_the_verification_page(self, portal: Portal) -> None:
        account, headers = await applicant(portal)
        licence = await issue_licence(portal, account)
        response = await portal.gateway.get("/api/v1/me/licences", headers=headers)
        assert response.status_code == 200
        [mine] = response.json()
        assert (mine["identifier"], mine["status"], mine["status_text"]) == (
            licence.identifier,
            "valid",
            "有效",
        )
        assert mine["verify_url"].startswith("https://portal.example.gov.cn/licences/verify/")
        token = mine["verify_url"].rsplit("/", 1)[1]
        assert licence.licence_no not in token and licence.identifier not in token
        assert mine["qr_svg"].startswith("<svg")
        _, other = await applicant(portal, "李四")
        assert (await portal.gateway.get("/api/v1/me/licences", headers=other)).json() == []
        assert (await portal.gateway.get("/api/v1/me/licences")).status_code == 401


class TestVerificationPage:
    async def test_page_shows_the_verdict_and_nothing_personal_then_a_revocation_at_once(
        self, portal: Portal
    ) -> None:
        account, headers = await applicant(portal)
        licence = await issue_licence(portal, account)
        url = (await portal.gateway.get("/api/v1/me/licences", headers=headers)).json()[0]["verify_url"]
        path = url.removeprefix("https://portal.example.gov.cn")
        page = await portal.gateway.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert page.headers["cache-control"] == "no-store"
        html = page.text
        assert "证照有效" in html and "建筑工程施工许可证" in html and "张*" in html
        assert "元江县住房和城乡建设局" in html and "2026-11-30" in html
        for secret in (str(account.id_number), licence.licence_no, licence.case_no, "张三", "教学楼"):
            assert secret not in html, secret
        api = await portal.gateway.get(f"/api/v1/licences/verification/{path.rsplit('/', 1)[1]}")
        assert api.status_code == 200 and api.json()["result"] == "valid"
        await revoke(portal, licence)
        assert "证照已撤销" in (await portal.gateway.get(path)).text

    async def test_unknown_token_is_the_404_page(self, portal: Portal) -> None:
        page = await portal.gateway.get("/licences/verify/" + "Q" * 32)
        assert page.status_code == 404 and "页面不存在" in page.text

    async def test_verification_is_rate_limited_per_address(self, portal: Portal) -> None:
        state = portal.gateway_app.state
        saved, state.licence_limiter = state.licence_limiter, SlidingWindow(3)
        try:
            statuses = [
                (await portal.gateway.get("/api/v1/licences/verification/" + "Z" * 32)).status_code
                for _ in range(4)
            ]
            assert statuses == [404, 404, 404, 429]
            limited = await portal.gateway.get("/api/v1/licences/verification/" + "Z" * 32)
            assert limited.json()["code"] == "licence_verification_throttled"
            assert int(limited.headers["retry-after"]) >= 1
            assert (await portal.gateway.get("/licences/verify/" + "Z" * 32)).status_code == 429
        finally:
            state.licence_limiter = saved


class TestLicenceAsMaterial:
    async def submit(
        self, portal: Portal, headers: dict[str, str], licences: list[dict[str, str]]
    ) -> httpx.Response:
        return await portal.gateway.post(
            "/api/v1/applications",
            json={"item_code": REUSING_ITEM, "form": {"工程名称": "教学楼"}, "licences": licences},
            headers=headers,
        )

    async def test_a_held_valid_licence_satisfies_the_shareable_material(self, portal: Portal) -> None:
        account, headers = await applicant(portal)
        licence = await issue_licence(portal, account)
        response = await self.submit(
            portal, headers, [{"material_code": "M05", "identifier": licence.identifier}]
        )
        assert response.status_code == 202, response.text
        detail = (
            await portal.gateway.get(
                f"/api/v1/applications/{response.json()['application_id']}", headers=headers
            )
        ).json()
        [material] = detail["materials"]
        assert (material["material_code"], material["licence_identifier"]) == ("M05", licence.identifier)
        assert material["media_type"] == "application/vnd.yiwang.e-licence+json"
        document = (
            await portal.datasharing.get(f"/api/v1/licences/{licence.identifier}/document", headers=headers)
        ).json()
        assert material["sha256"] == hashlib.sha256(document["payload"].encode()).hexdigest()
        # The submission event carries the reference: management sees M05 handed in (not asked again).
        rows = await outbox_events(
            portal.gateway_app.state.sessionmaker,
            gateway_messaging.outbox,
            "yiwang.gateway.application.submitted.v1",
        )
        mine = [e for _, e in rows if e["data"]["application_id"] == response.json()["application_id"]]
        assert mine[0]["data"]["materials"][0]["licence_identifier"] == licence.identifier

    async def test_someone_elses_licence_is_refused(self, portal: Portal) -> None:
        owner, _ = await applicant(portal)
        licence = await issue_licence(portal, owner)
        _, headers = await applicant(portal, "李四")
        response = await self.submit(
            portal, headers, [{"material_code": "M05", "identifier": licence.identifier}]
        )
        assert response.status_code == 422 and response.json()["code"] == "licence_not_held"

    async def test_a_material_that_must_be_handed_in_is_not_satisfied_by_a_licence(
        self, portal: Portal
    ) -> None:
        account, headers = await applicant(portal)
        licence = await issue_licence(portal, account)
        response = await self.submit(
            portal, headers, [{"material_code": "M06", "identifier": licence.identifier}]
        )
        assert response.status_code == 422 and response.json()["code"] == "licence_not_accepted"

    @pytest.mark.parametrize("status", ["revoked", "suspended"])
    async def test_a_revoked_or_suspended_licence_is_refused(self, portal: Portal, status: str) -> None:
        account, headers = await applicant(portal)
        licence = await issue_licence(portal, account)
        await revoke(portal, licence, status)
        response = await self.submit(
            portal, headers, [{"material_code": "M05", "identifier": licence.identifier}]
        )
        assert response.status_code == 422 and response.json()["code"] == "licence_not_usable"


class TestPublicProgressPage:
    async def test_the_decision_qr_target_shows_the_case_and_nothing_personal(self, portal: Portal) -> None:
        account, headers = await applicant(portal)
        licence = await issue_licence(portal, account)
        submitted = await portal.gateway.post(
            "/api/v1/applications",
            json={
                "item_code": REUSING_ITEM,
                "form": {"工程名称": "教学楼"},
                "licences": [{"material_code": "M05", "identifier": licence.identifier}],
            },
            headers=headers,
        )
        application_id = submitted.json()["application_id"]
        payload = "53042820261202" + f"{random.randrange(10**6):06d}"
        case_no = payload + mod37_36_check(payload)
        registered = CaseRegistered(
            case_no=case_no,
            application_id=application_id,
            item_code=REUSING_ITEM,
            item_name="建筑工程竣工验收备案",
            applicant=Applicant(
                account_id=str(account.id),
                name=account.name,
                kind="natural_person",
                id_type="111",
                id_number=str(account.id_number),
            ),
            missing_materials=[],
            registered_at=T0,
        )
        async with session_scope(portal.gateway_app.state.sessionmaker) as session:
            envelope = make_event(registered, source="urn:yiwang:530428:management", subject=case_no)
            await on_case_registered(session, envelope, registered)
        page = await portal.gateway.get(f"/progress/{case_no}")
        assert page.status_code == 200
        assert (
            case_no in page.text and "建筑工程竣工验收备案" in page.text and "已登记，等待受理" in page.text
        )
        for secret in (account.name, str(account.id_number), "教学楼", licence.identifier):
            assert secret not in page.text, secret
        unknown = "53042820261202999999"
        assert (await portal.gateway.get(f"/progress/{unknown}{mod37_36_check(unknown)}")).status_code == 404
