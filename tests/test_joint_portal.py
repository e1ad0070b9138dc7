"""联办 as the applicant sees it (ADR 0121): management, business and the portal over real PostgreSQL
and NATS JetStream. Three departments — two on the built-in workflow, one on its own system through
the plug-in REST contract — and the applicant follows ONE case whose timeline lists each
department's part and its state, then the single combined result with the one combined notice."""

from __future__ import annotations

import asyncio
import io
import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pypdf
import pytest
import zxingcpp
from nats.aio.client import Client as NatsClient
from PIL import Image
from sqlalchemy import text

import yiwang_business
import yiwang_datasharing
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
from yiwang_common.calendar import WorkingDayCalendar
from yiwang_common.config import DatabaseSettings
from yiwang_common.contracts.business import CaseClockPaused, CaseClockResumed
from yiwang_common.db import session_scope
from yiwang_common.events import make_event
from yiwang_common.events.outbox import serialize
from yiwang_common.migrations import upgrade_database
from yiwang_common.testing import (
    bearer,
    create_database,
    drop_database,
    ephemeral_auth,
    fresh_streams,
    nats_url,
)
from yiwang_datasharing.config import Settings as DataSharingSettings
from yiwang_datasharing.main import create_app as create_datasharing
from yiwang_gateway.config import Settings as GatewaySettings
from yiwang_gateway.main import create_app as create_gateway
from yiwang_gateway.material import client as material_client
from yiwang_gateway.web import guides
from yiwang_management.config import Settings as ManagementSettings
from yiwang_management.demo_items import demo_items
from yiwang_management.item.service import publish_item
from yiwang_management.main import create_app as create_management
from yiwang_management.shared import local_date


def pdf_text(pdf: bytes) -> str:
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    return text.replace(" ", "").replace("\n", "")


def qr_codes(pdf: bytes) -> list[str]:
    return [
        code.text
        for page in pypdf.PdfReader(io.BytesIO(pdf)).pages
        for image in page.images
        for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(image.data)).convert("L"))
    ]


class Recorded(httpx.ASGITransport):
    """The real management app, with the paths the gateway asked it for kept."""

    def __init__(self, app: Any) -> None:
        super().__init__(app=app)
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return await super().handle_async_request(request)


class Apps:
    def __init__(
        self,
        management: httpx.AsyncClient,
        business: httpx.AsyncClient,
        portal: httpx.AsyncClient,
        gateway: Any,
        upstream: Recorded,
        nc: NatsClient,
        calendar: WorkingDayCalendar,
    ):
        self.nc = nc
        self.calendar = calendar
        self.management = management
        self.business = business
        self.portal = portal
        self.gateway = gateway
        self.upstream = upstream

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
    await fresh_streams(nc.jetstream(), "management", "business", "gateway", "datasharing")
    urls = {
        name: await _database(name, package)
        for name, package in (
            ("management", yiwang_management),
            ("business", yiwang_business),
            ("gateway", yiwang_gateway),
            ("datasharing", yiwang_datasharing),
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
    datasharing = create_datasharing(
        DataSharingSettings(
            database={"url": urls["datasharing"], "schema_name": "datasharing"},
            blob_dir=Path(tempfile.mkdtemp(prefix="yiwang-joint-portal-")),
            **common,
        )
    )
    # The portal fetches notices from, and hands 补正 to, this management app (in process, no
    # socket); the applicant's uploads go to the real data-sharing.
    upstream = Recorded(management)
    setattr(gateway.state, guides.TRANSPORT_STATE_KEY, upstream)
    setattr(gateway.state, material_client.TRANSPORT_STATE_KEY, httpx.ASGITransport(app=datasharing))
    try:
        async with (
            management.router.lifespan_context(management),
            business.router.lifespan_context(business),
            gateway.router.lifespan_context(gateway),
            datasharing.router.lifespan_context(datasharing),
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
                yield Apps(m, b, g, gateway, upstream, nc, management.state.calendar)
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


def citizen(sub: str = APPLICANT["account_id"], name: str = "张三") -> dict[str, str]:
    """A signed-in citizen (申请人 role) of the portal."""
    return bearer(Principal(sub=sub, name=name, kind="natural_person", roles=frozenset({"applicant"})))


async def _management_part(apps: Apps, joint_no: str, index: int) -> dict[str, Any]:
    r = await apps.management.get(f"/joint-cases/{joint_no}", headers=staff(HOUSING, "acceptor"))
    assert r.status_code == 200, r.text
    part: dict[str, Any] = r.json()["parts"][index]
    return part


async def _in_catalogue(apps: Apps, item_code: str) -> bool | None:
    return (await apps.portal.get(f"/items/{item_code}")).status_code == 200 or None


def _local(at: datetime) -> date:
    return local_date(at)


async def _publish(apps: Apps, *events: CaseClockPaused | CaseClockResumed) -> None:
    """business's events as it would publish them, each a message (and event id) of its own."""
    js = apps.nc.jetstream()
    for data in events:
        envelope = make_event(data, source="urn:yiwang:530428:business", subject=data.case_no)
        await js.publish(envelope.nats_subject, serialize(envelope))


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
    # A built-in department sends its part back to the applicant (business 退回补正): 待补正 too,
    # and 办理中 again once the applicant has corrected it in business.
    reviewer = staff(HOUSING, "reviewer")

    async def review_task() -> Any:
        items = (await apps.business.get("/tasks", headers=reviewer)).json()["items"]
        return items[0] if items else None

    housing_part = (await eventually(review_task))["case_no"]
    r = await apps.business.post(
        f"/tasks/{(await review_task())['id']}/return",
        json={"to": "applicant", "reason": "请补充施工图审查合格书"},
        headers=reviewer,
    )
    assert r.status_code == 200, r.text

    async def housing_is(status: str) -> dict[str, Any] | None:
        c = await _my_case(apps, joint_no)
        return c if c and c["parts"][0]["status"] == status else None

    case = await eventually(lambda: housing_is("awaiting_supplement"))
    assert (
        case["parts"][0]["status_text"] == "待补正" and case["parts"][0]["note"] == "请补充施工图审查合格书"
    )
    # management's clock of the part stands still with business's (ADR 0127).
    assert (await _management_part(apps, joint_no, 0))["clock_paused"]

    # The applicant hands the correction in through the portal: a material uploaded to 材料库 and a note.
    r = await apps.portal.post(
        "/materials",
        files={"file": ("合格书.pdf", b"%PDF-1.4 hege", "application/pdf")},
        headers=citizen(),
    )
    assert r.status_code == 201, r.text
    sha = r.json()["sha256"]
    await eventually(lambda: _in_catalogue(apps, ITEMS[HOUSING]))
    body = {"materials": [{"material_code": "M06", "sha256": sha}], "note": "已补充施工图审查合格书"}
    supplements = f"/cases/{joint_no}/parts/{housing_part}/supplements"
    other = citizen("acct-other", "李四")
    asked = len(apps.upstream.paths)
    # Someone else: 404 problem, and management is not even asked.
    r = await apps.portal.post(supplements, json=body, headers=other)
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    # A part that asked for nothing: 409, nothing sent.
    planning_part = case["parts"][1]["part_no"]
    r = await apps.portal.post(
        f"/cases/{joint_no}/parts/{planning_part}/supplements", json=body, headers=citizen()
    )
    assert r.status_code == 409 and r.json()["code"] == "joint_part_not_awaiting_supplement"
    assert len(apps.upstream.paths) == asked
    r = await apps.portal.post(supplements, json=body, headers=citizen())
    assert r.status_code == 202, r.text
    receipt = r.json()
    assert receipt["part_no"] == housing_part and receipt["department"] == DEPARTMENTS[HOUSING]
    assert [m["sha256"] for m in receipt["materials"]] == [sha]
    # The same hand-in again (the portal has not heard back yet): management refuses it, 409.
    r = await apps.portal.post(supplements, json=body, headers=citizen())
    assert r.status_code == 409 and r.json()["code"] == "joint_part_not_awaiting_supplement"

    # It reaches the department that asked: business's task goes on with the material, its clock runs.
    async def housing_task_running() -> Any:
        task = await review_task()
        if task is None:
            return None
        r = await apps.business.get(f"/tasks/{task['id']}", headers=reviewer)
        detail = r.json()
        return detail if any(m["sha256"] == sha for m in detail["case"]["materials"]) else None

    detail = await eventually(housing_task_running)
    assert [m["material_code"] for m in detail["case"]["materials"] if m["sha256"] == sha] == ["M06"]
    case = await eventually(lambda: housing_is("in_progress"))
    assert any(t["title"] == f"{DEPARTMENTS[HOUSING]}：待补正" for t in case["timeline"])
    assert any(
        t["title"] == f"{DEPARTMENTS[HOUSING]}：办理中" and "已补正材料" in (t["detail"] or "")
        for t in case["timeline"]
    )
    # The other parts were not touched; management's part clock runs again.
    assert case["parts"][1]["status"] != "awaiting_supplement"

    async def housing_clock_running() -> dict[str, Any] | None:
        part = await _management_part(apps, joint_no, 0)
        return part if not part["clock_paused"] else None

    await eventually(housing_clock_running)
    # Once supplied, a late copy of the hand-in changes nothing (409, the task is not doubled).
    r = await apps.portal.post(supplements, json=body, headers=citizen())
    assert r.status_code == 409
    tasks = (await apps.business.get("/tasks", headers=reviewer)).json()["items"]
    assert len([t for t in tasks if t["case_no"] == housing_part]) == 1

    # business's 挂起 of the planning part, its end delivered before its start and both twice:
    # management's part clock moves its due date by the working days it stood still, once.
    planning = await _management_part(apps, joint_no, 1)
    start = datetime.fromisoformat(planning["dispatched_at"])
    paused_at, resumed_at = start + timedelta(days=1), start + timedelta(days=8)
    days = apps.calendar.working_days_between(_local(paused_at), _local(resumed_at))
    application_id = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:yiwang:joint-part:{planning_part}")
    resumed = CaseClockResumed(
        case_no=planning_part,
        application_id=application_id,
        kind="suspended",
        reason="恢复",
        paused_working_days=days,
        due_date=_local(resumed_at),
        resumed_at=resumed_at,
    )
    paused = CaseClockPaused(
        case_no=planning_part,
        application_id=application_id,
        kind="suspended",
        kind_name="挂起",
        reason="等待上级批复",
        notify_applicant=False,
        paused_at=paused_at,
    )
    await _publish(apps, resumed, resumed, paused, paused)
    expected = apps.calendar.add_working_days(_local(start), planning["limit_days"] + days)

    async def planning_moved() -> dict[str, Any] | None:
        part = await _management_part(apps, joint_no, 1)
        return part if part["due_date"] == expected.isoformat() else None

    part = await eventually(planning_moved)
    assert part["paused_days"] == days and not part["clock_paused"] and days > 0
    await asyncio.sleep(0.5)  # the copies are consumed by now; none moved it twice
    assert (await _management_part(apps, joint_no, 1))["due_date"] == expected.isoformat()
    # The external system's part takes the applicant's 补正 the same way (only what it asked for):
    # it is handed out to the system again with the material.
    await eventually(lambda: _in_catalogue(apps, ITEMS[MARKET]))
    market_supplements = f"/cases/{joint_no}/parts/{market_part}/supplements"
    r = await apps.portal.post(market_supplements, json=body, headers=citizen())
    assert r.status_code == 422 and r.json()["code"] == "joint_supplement_invalid"
    assert "M03" in r.json()["detail"]
    r = await apps.portal.post(
        market_supplements,
        json={"materials": [{"material_code": "M03", "sha256": sha}], "note": "已补充经营场所平面图"},
        headers=citizen(),
    )
    assert r.status_code == 202, r.text
    r = await apps.management.get("/plugin/dispatches", headers=market)
    [again] = [d for d in r.json()["items"] if d["part"]["part_no"] == market_part]
    assert again["reason"] == "supplemented"
    assert {"material_code": "M03", "sha256": sha}.items() <= next(
        m for m in again["part"]["materials"] if m["sha256"] == sha
    ).items()
    assert (
        await apps.management.post(f"/plugin/dispatches/{market_part}/ack", headers=market)
    ).status_code == 200

    # Before every department has decided there is no combined notice to download.
    r = await apps.portal.get(f"/cases/{joint_no}/notices/joint.pdf", headers=applicant_auth())
    assert r.status_code == 404

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

    # The one combined notice as a PDF, through the portal: 办件编号, every department, the refusal
    # with its reason and remedies, and the QR code to the public progress page.
    r = await apps.portal.get(f"/cases/{joint_no}/notices/joint.pdf", headers=applicant_auth())
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    printed = pdf_text(r.content)
    assert f"办件编号：{joint_no}" in printed and all(name in printed for name in DEPARTMENTS.values())
    assert "联办不予许可告知" in printed and "经营场所不符合要求" in printed and "行政复议" in printed
    [code] = qr_codes(r.content)
    assert code.endswith(f"/progress/{joint_no}")
    assert f"/api/v1/joint-cases/{joint_no}/notice.pdf" in apps.upstream.paths
    # A stranger's request for it never reaches management.
    asked = len(apps.upstream.paths)
    r = await apps.portal.get(f"/cases/{joint_no}/notices/joint.pdf", headers=other)
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    assert len(apps.upstream.paths) == asked
