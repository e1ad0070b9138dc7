"""联办 as the applicant sees it (ADR 0121): management, business and the portal over real PostgreSQL
and NATS JetStream. Three departments — two on the built-in workflow, one on its own system through
the plug-in REST contract — and the applicant follows ONE case whose timeline lists each
department's part and its state, then the single combined result with the one combined notice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NatsClient
from sqlalchemy import text

import yiwang_business
import yiwang_gateway
import yiwang_management
from tests.test_joint_plugin import (
    APPLICANT,
    DEPARTMENTS,
    HOUSING,
    ITEMS,
    MARKET,
    PLANNING,
    _register,
    applicant_auth,
    eventually,
    staff,
)
from yiwang_business.config import Settings as BusinessSettings
from yiwang_business.main import create_app as create_business
from yiwang_common.auth import Principal
from yiwang_common.config import DatabaseSettings
from yiwang_common.db import session_scope
from yiwang_common.migrations import upgrade_database
from yiwang_common.testing import (
    bearer,
    create_database,
    drop_database,
    ephemeral_auth,
    fresh_streams,
    nats_url,
)
from yiwang_gateway.config import Settings as GatewaySettings
from yiwang_gateway.main import create_app as create_gateway
from yiwang_management.config import Settings as ManagementSettings
from yiwang_management.demo_items import demo_items
from yiwang_management.item.service import publish_item
from yiwang_management.main import create_app as create_management


class Apps:
    def __init__(
        self,
        management: httpx.AsyncClient,
        business: httpx.AsyncClient,
        portal: httpx.AsyncClient,
        gateway: Any,
    ):
        self.management = management
        self.business = business
        self.portal = portal
        self.gateway = gateway

    async def applications(self) -> list[tuple[str | None, str]]:
        """The applicant's rows in the portal: (办件编号, item code)."""
        async with session_scope(self.gateway.state.sessionmaker) as session:
            rows = await session.execute(
                text("SELECT case_no, item_code FROM application WHERE applicant_id = :a"),
                {"a": APPLICANT["account_id"]},
            )
            return [(r.case_no, r.item_code) for r in rows]


async def _database(service: str, package: Any) -> str:
    url = await create_database(f"yiwang_test_jointportal_{service}")
    await upgrade_database(
        DatabaseSettings(url=url, schema_name=service), Path(package.__file__).parent / "migrations"
    )
    return url


@pytest.fixture
async def apps(nc: NatsClient) -> AsyncIterator[Apps]:
    await fresh_streams(nc.jetstream(), "management", "business", "gateway")
    urls = {
        name: await _database(name, package)
        for name, package in (
            ("management", yiwang_management),
            ("business", yiwang_business),
            ("gateway", yiwang_gateway),
        )
    }
    common: dict[str, Any] = {"nats": {"url": nats_url()}, "run_workers": True, "auth": ephemeral_auth()}
    management = create_management(
        ManagementSettings(database=DatabaseSettings(url=urls["management"]), **common)
    )
    business = create_business(
        BusinessSettings(database={"url": urls["business"], "schema_name": "business"}, **common)
    )
    gateway = create_gateway(
        GatewaySettings(database={"url": urls["gateway"], "schema_name": "gateway"}, env="test", **common)
    )
    try:
        async with (
            management.router.lifespan_context(management),
            business.router.lifespan_context(business),
            gateway.router.lifespan_context(gateway),
        ):
            async with session_scope(management.state.sessionmaker) as session:
                base = demo_items()[0]
                for org, name in DEPARTMENTS.items():
                    org_ref = base.implementing_org.model_copy(update={"code": org, "name": name})
                    item = base.model_copy(update={"item_code": ITEMS[org], "implementing_org": org_ref})
                    await publish_item(session, item, source="urn:yiwang:530428:management")

            def client(app: Any, name: str) -> httpx.AsyncClient:
                return httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url=f"http://{name}/api/v1"
                )

            async with (
                client(management, "m") as m,
                client(business, "b") as b,
                client(gateway, "g") as g,
            ):
                yield Apps(m, b, g, gateway)
    finally:
        for url in urls.values():
            await drop_database(url)


async def _my_case(apps: Apps, joint_no: str) -> dict[str, Any] | None:
    r = await apps.portal.get(f"/cases/{joint_no}", headers=applicant_auth())
    return r.json() if r.status_code == 200 else None


def _states(case: dict[str, Any]) -> list[str]:
    return [p["status"] for p in case["parts"]]


async def _decide_builtin(apps: Apps, org: str) -> None:
    for role in ("reviewer", "approver"):
        headers = staff(org, role)

        async def task(headers: dict[str, str] = headers) -> Any:
            items = (await apps.business.get("/tasks", headers=headers)).json()["items"]
            return items[0] if items else None

        open_task = await eventually(task)
        r = await apps.business.post(
            f"/tasks/{open_task['id']}/complete",
            json={"decision": "approve", "opinion": "同意。"},
            headers=headers,
        )
        assert r.status_code == 200, r.text


@pytest.mark.slow
async def test_the_applicant_follows_one_joint_case_part_by_part(apps: Apps) -> None:
    system = await _register(apps.management, MARKET, ITEMS[MARKET])
    r = await apps.management.post(
        "/plugin/token", json={"client_id": system["client_id"], "client_secret": system["client_secret"]}
    )
    market = {"Authorization": "Bearer " + r.json()["access_token"]}
    r = await apps.management.post(
        "/joint-cases",
        json={
            "theme_name": "开办建设项目一件事",
            "item_codes": list(ITEMS.values()),
            "applicant": APPLICANT,
            "form": {},
            "materials": [],
        },
        headers=staff(HOUSING, "acceptor"),
    )
    assert r.status_code == 201, r.text
    joint_no = r.json()["joint_no"]
    market_part = r.json()["parts"][2]["part_no"]

    # ONE case in the portal, accepted, with a part per department.
    case = await eventually(lambda: _my_case(apps, joint_no))
    assert case["status"] == "accepted" and case["item"]["name"] == "开办建设项目一件事"
    assert [p["department"]["code"] for p in case["parts"]] == [HOUSING, PLANNING, MARKET]
    assert case["timeline"][0]["title"] == "已受理（联办）"
    assert all(name in case["timeline"][0]["detail"] for name in DEPARTMENTS.values())
    assert await apps.applications() == [(joint_no, "JOINT")]

    # The market department's system takes its part and asks for a supplement: the applicant sees it.
    assert (
        await apps.management.post(f"/plugin/dispatches/{market_part}/ack", headers=market)
    ).status_code == 200
    r = await apps.management.post(
        f"/plugin/parts/{market_part}/supplement-requests",
        json={"reason": "请补充经营场所平面图", "materials": ["M03"]},
        headers=market,
    )
    assert r.status_code == 200, r.text

    async def asked() -> dict[str, Any] | None:
        c = await _my_case(apps, joint_no)
        return c if c and c["parts"][2]["status"] == "awaiting_supplement" else None

    case = await eventually(asked)
    assert case["parts"][2]["status_text"] == "待补正" and case["parts"][2]["note"] == "请补充经营场所平面图"
    assert any(t["title"] == f"{DEPARTMENTS[MARKET]}：待补正" for t in case["timeline"])
    # The built-in departments decide in business; their parts move on the same case.
    for org in (HOUSING, PLANNING):
        await _decide_builtin(apps, org)

    async def two_approved() -> dict[str, Any] | None:
        c = await _my_case(apps, joint_no)
        return c if c and _states(c)[:2] == ["approved", "approved"] else None

    case = await eventually(two_approved)
    assert case["status"] == "accepted" and case["result"] is None
    # The system refuses its part: the last result completes the case with one combined result.
    decision = {
        "document_no": "市监许〔2026〕1号",
        "title": "不予行政许可决定书",
        "body": "不予许可。",
        "decided_at": case["submitted_at"],
        "decider_name": "审批员",
        "org": {"name": DEPARTMENTS[MARKET], "code": MARKET},
    }
    r = await apps.management.post(
        f"/plugin/parts/{market_part}/result",
        json={"outcome": "refused", "reason": "经营场所不符合要求", "decision": decision},
        headers=market,
    )
    assert r.status_code == 200, r.text

    async def completed() -> dict[str, Any] | None:
        c = await _my_case(apps, joint_no)
        return c if c and c["status"] == "completed" else None

    case = await eventually(completed)
    assert case["outcome"] == "refused" and _states(case) == ["approved", "approved", "refused"]
    assert case["result"]["decision"]["title"] == "联办结果告知书"
    assert case["result"]["decision"]["document_no"] == f"{joint_no}-联办"
    notice = case["result"]["notice_text"]
    assert "联办不予许可告知书" in notice and DEPARTMENTS[MARKET] in notice and "经营场所不符合要求" in notice
    titles = [t["title"] for t in case["timeline"]]
    assert titles[-1] == "已办结（联办）：不予许可"
    assert {f"{DEPARTMENTS[o]}：准予许可" for o in (HOUSING, PLANNING)} <= set(titles)
    assert f"{DEPARTMENTS[MARKET]}：不予许可" in titles
    # Still one case; nobody else sees it.
    assert await apps.applications() == [(joint_no, "JOINT")]
    other = bearer(Principal(sub="acct-other", name="李四", kind="natural_person"))
    assert (await apps.portal.get(f"/cases/{joint_no}", headers=other)).status_code == 404
