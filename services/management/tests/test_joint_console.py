"""联办 in management's console (ADR 0121): the parallel view of a joint case (every department's
part with its system, state, own limit with 红黄灯 and last report, the combined result and notice),
the list of joint cases, deny-by-default access, and the events the portal projects."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from acceptance_support import PROGRESS, embedded_fonts, pdf_text, qr_codes
from management_factories import (
    ACCEPTOR,
    ADMIN,
    APPLICANT,
    ORG_CODE,
    OTHER_ACCEPTOR,
    SUPERVISOR,
    Browser,
    auth,
    outbox,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.auth import Principal
from yiwang_common.calendar import WorkingDayCalendar
from yiwang_common.checkdigits import uscc_check
from yiwang_common.contracts.business import CaseClockPaused, CaseClockResumed, PauseKind
from yiwang_common.contracts.common import DecisionDocument, Organisation
from yiwang_common.contracts.management import JointCaseCompleted, JointCaseOpened, JointPartChanged
from yiwang_common.db import session_scope, utcnow
from yiwang_common.events import make_event
from yiwang_management.case.handlers import CaseEventHandlers
from yiwang_management.config import SupervisionSettings
from yiwang_management.demo_items import demo_items
from yiwang_management.item.service import publish_item
from yiwang_management.joint import service as joint
from yiwang_management.joint.handlers import JointEventHandlers
from yiwang_management.shared import local_date
from yiwang_management.supervision.sweep import sweep

SOURCE = "urn:yiwang:530428:management"
JOINT = "/console/manage/joint"


def _uscc(serial: str) -> str:
    first = "11530428" + serial
    return first + uscc_check(first)


PLANNING, MARKET = _uscc("000000102"), _uscc("000000103")
NAMES = {ORG_CODE: "元江县住房和城乡建设局", PLANNING: "元江县自然资源局", MARKET: "元江县市场监督管理局"}
CODES = {org: f"{org}2000109003000" for org in (PLANNING, MARKET)}
MARKET_REVIEWER = Principal(
    sub="staff-market", name="市监审查", kind="staff", roles=frozenset({"reviewer"}), org_code=MARKET
)
ELSEWHERE_SUPERVISOR = Principal(
    sub="staff-elsewhere",
    name="他县监察",
    kind="staff",
    roles=frozenset({"supervisor"}),
    org_code=ORG_CODE,
    region="530402",
)


@pytest.fixture
async def items(sessionmaker: async_sessionmaker[AsyncSession]) -> list[str]:
    """Three departments' items in force: the construction permit (the window's own) and two copies."""
    async with session_scope(sessionmaker) as session:
        await session.execute(text("TRUNCATE plugin_system, plugin_token, item_handler CASCADE"))
        base = demo_items()[0]
        await publish_item(session, base, source=SOURCE)
        for org, code in CODES.items():
            org_ref = base.implementing_org.model_copy(update={"code": org, "name": NAMES[org]})
            await publish_item(
                session,
                base.model_copy(update={"item_code": code, "implementing_org": org_ref}),
                source=SOURCE,
            )
    return [base.item_code, *CODES.values()]


async def _open(client: httpx.AsyncClient, codes: list[str]) -> dict[str, Any]:
    r = await client.post(
        "/joint-cases",
        json={
            "theme_name": "开办建设项目一件事",
            "item_codes": codes,
            "applicant": APPLICANT.model_dump(mode="json"),
            "form": {},
        },
        headers=auth(ACCEPTOR),
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def _external(client: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, str]]:
    """The market department's own system, configured for its item, and its bearer header."""
    r = await client.post(
        "/plugin/systems",
        json={"name": "市场监管审批系统", "department_code": MARKET, "department_name": NAMES[MARKET]},
        headers=auth(ADMIN),
    )
    assert r.status_code == 201, r.text
    system: dict[str, Any] = r.json()
    r = await client.put(
        f"/plugin/items/{CODES[MARKET]}/handler",
        json={"handler": "external", "system_id": system["system_id"]},
        headers=auth(ADMIN),
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        "/plugin/token", json={"client_id": system["client_id"], "client_secret": system["client_secret"]}
    )
    return system, {"Authorization": "Bearer " + r.json()["access_token"]}


async def _sql(sessionmaker: async_sessionmaker[AsyncSession], statement: str, **params: Any) -> None:
    async with session_scope(sessionmaker) as session:
        await session.execute(text(statement), params)


def _row(page: str, part_no: str) -> str:
    return page.split(f'data-part="{part_no}"')[1].split("</tr>")[0]


def _decision(org: str, title: str = "准予行政许可决定书") -> DecisionDocument:
    return DecisionDocument(
        document_no=f"{org[-4:]}许〔2026〕1号",
        title=title,
        body="决定。",
        decided_at=utcnow(),
        decider_name="审批员",
        org=Organisation(name=NAMES[org], code=org),
    )


class TestParallelView:
    async def test_every_part_with_its_system_state_limit_and_last_report(
        self,
        client: httpx.AsyncClient,
        browser: Callable[[Principal], Browser],
        sessionmaker: async_sessionmaker[AsyncSession],
        items: list[str],
    ) -> None:
        system, mine = await _external(client)
        case = await _open(client, items)
        joint_no = case["joint_no"]
        housing, planning, market = (p["part_no"] for p in case["parts"])
        # One opened event for the portal: the one combined case with its three parts.
        [opened] = [
            JointCaseOpened.model_validate(e["data"])
            for e in await outbox(sessionmaker, JointCaseOpened.subject)
        ]
        assert opened.joint_no == joint_no and [p.part_no for p in opened.parts] == [
            housing,
            planning,
            market,
        ]
        assert [p.department.code for p in opened.parts] == [ORG_CODE, PLANNING, MARKET]

        # The system has not pulled for an hour while its part waited: it is shown as down.
        await _sql(
            sessionmaker,
            "UPDATE joint_part SET dispatched_at = now() - interval '1 hour' WHERE part_no = :p",
            p=market,
        )
        staff = browser(ACCEPTOR)
        page = (await staff.http.get(f"{JOINT}/{joint_no}")).text
        assert "外部系统：市场监管审批系统" in _row(page, market)
        assert "等待中（外部系统未连接）" in _row(page, market)
        assert "内置流程" in _row(page, housing) and "已分派" in _row(page, housing)
        assert "0/3 个部门已办结" in page
        # It pulls: no longer down, still to acknowledge; then it takes the part over.
        assert len((await client.get("/plugin/dispatches", headers=mine)).json()["items"]) == 1
        assert "已分派" in _row((await staff.http.get(f"{JOINT}/{joint_no}")).text, market)
        r = await client.post(f"/plugin/dispatches/{market}/ack", headers=mine)
        assert r.status_code == 200, r.text
        assert "已接收" in _row((await staff.http.get(f"{JOINT}/{joint_no}")).text, market)
        r = await client.post(
            f"/plugin/parts/{market}/supplement-requests",
            json={"reason": "请补充经营场所平面图", "materials": ["M03"]},
            headers=mine,
        )
        assert r.status_code == 200, r.text
        # Each part's own limit: one past due (red), one due today (yellow), one running.
        today = local_date(utcnow())
        await _sql(
            sessionmaker,
            "UPDATE joint_part SET due_date = :d WHERE part_no = :p",
            d=today - timedelta(days=1),
            p=housing,
        )
        await _sql(
            sessionmaker, "UPDATE joint_part SET due_date = :d WHERE part_no = :p", d=today, p=planning
        )
        await _sql(
            sessionmaker,
            "UPDATE joint_part SET due_date = :d WHERE part_no = :p",
            d=today + timedelta(days=30),
            p=market,
        )
        page = (await staff.http.get(f"{JOINT}/{joint_no}")).text
        assert 'level-red">已超期' in _row(page, housing)
        assert 'level-yellow">临近时限' in _row(page, planning)
        assert "level-" not in _row(page, market)
        row = _row(page, market)
        assert "待补正" in row and "申请补正：请补充经营场所平面图" in row
        assert f"{case['parts'][2]['limit_days']} 个工作日" in row
        changed = [
            JointPartChanged.model_validate(e["data"])
            for e in await outbox(sessionmaker, JointPartChanged.subject)
        ]
        assert [(c.part_no, c.status) for c in changed] == [
            (market, "in_progress"),
            (market, "awaiting_supplement"),
        ]
        assert (
            changed[-1].note == "请补充经营场所平面图" and changed[-1].application_id == opened.application_id
        )

        # The departments decide: the built-in ones through business's decision, the system over REST.
        async with session_scope(sessionmaker) as session:
            for part_no, org in ((housing, ORG_CODE), (planning, PLANNING)):
                await joint.decide_part(
                    session,
                    part_no,
                    outcome="approved",
                    reason=None,
                    decision=_decision(org),
                    licence=None,
                    source=SOURCE,
                )
        page = (await staff.http.get(f"{JOINT}/{joint_no}")).text
        assert "办理结果：准予许可" in _row(page, housing) and "超期办结" in _row(page, housing)
        assert "按时办结" in _row(page, planning) and "2/3 个部门已办结" in page
        assert "联办结果" not in page
        refusal = {
            "outcome": "refused",
            "reason": "经营场所不符合要求",
            "decision": _decision(MARKET, "不予行政许可决定书").model_dump(mode="json"),
        }
        r = await client.post(f"/plugin/parts/{market}/result", json=refusal, headers=mine)
        assert r.status_code == 200, r.text
        page = (await staff.http.get(f"{JOINT}/{joint_no}")).text
        assert "联办结果：不予许可" in page and "已办结" in page
        assert f'href="{JOINT}/{joint_no}/notice.pdf">联办结果告知书（含不予许可告知，PDF）' in page
        printed = await staff.http.get(f"{JOINT}/{joint_no}/notice.pdf")
        assert printed.status_code == 200 and printed.headers["content-type"] == "application/pdf"
        text = pdf_text(printed.content)
        assert f"办件编号：{joint_no}" in text and "联办不予许可告知" in text
        assert "元江县市场监督管理局「" in text and "经营场所不符合要求" in text
        assert qr_codes(printed.content) == [PROGRESS + joint_no]
        [done] = [
            JointCaseCompleted.model_validate(e["data"])
            for e in await outbox(sessionmaker, JointCaseCompleted.subject)
        ]
        assert done.application_id == opened.application_id and done.decision is not None
        assert done.decision.title == "联办结果告知书"
        statuses = [
            c.status
            for c in (
                JointPartChanged.model_validate(e["data"])
                for e in await outbox(sessionmaker, JointPartChanged.subject)
            )
        ]
        assert statuses.count("approved") == 2 and statuses[-1] == "refused"
        assert system["system_id"]

    async def test_reachable_from_the_case_page_and_the_list(
        self,
        client: httpx.AsyncClient,
        browser: Callable[[Principal], Browser],
        sessionmaker: async_sessionmaker[AsyncSession],
        items: list[str],
    ) -> None:
        case = await _open(client, items)
        joint_no = case["joint_no"]
        staff = browser(ACCEPTOR)
        case_page = await staff.http.get(f"/console/manage/acceptance/{joint_no}")
        assert case_page.status_code == 200 and f'href="{JOINT}/{joint_no}"' in case_page.text
        listed = await staff.http.get(JOINT)
        assert listed.status_code == 200 and joint_no in listed.text and "0/3 个部门已办结" in listed.text
        assert joint_no in (await browser(SUPERVISOR).http.get(JOINT)).text
        assert joint_no in (await browser(MARKET_REVIEWER).http.get(JOINT)).text
        # Completed joint cases leave the default list of open ones and stay under 全部.
        await _sql(sessionmaker, "UPDATE case_file SET status = 'completed' WHERE case_no = :c", c=joint_no)
        assert joint_no not in (await staff.http.get(JOINT)).text
        assert joint_no in (await staff.http.get(JOINT, params={"show": "all"})).text

    async def test_deny_by_default(
        self, client: httpx.AsyncClient, browser: Callable[[Principal], Browser], items: list[str]
    ) -> None:
        joint_no = (await _open(client, items))["joint_no"]
        for allowed in (ACCEPTOR, SUPERVISOR, MARKET_REVIEWER):
            assert (await browser(allowed).http.get(f"{JOINT}/{joint_no}")).status_code == 200
        for denied in (OTHER_ACCEPTOR, ELSEWHERE_SUPERVISOR):
            other = browser(denied)
            r = await other.http.get(f"{JOINT}/{joint_no}")
            assert r.status_code == 404 and "开办建设项目一件事" not in r.text
            assert joint_no not in (await other.http.get(JOINT, params={"show": "all"})).text
            assert (await other.http.get(f"{JOINT}/{joint_no}/notice.pdf")).status_code == 404
        # An ordinary case number is no joint case; an unfinished joint case has no combined notice yet.
        assert (await browser(ACCEPTOR).http.get(f"{JOINT}/{joint_no}/notice.pdf")).status_code == 404
        assert (await browser(ACCEPTOR).http.get(f"{JOINT}/53042820260101000001X")).status_code == 404
        assert (await browser(ACCEPTOR).http.get(f"{JOINT}/not-a-number")).status_code in (404, 422)


HOLDER = Principal(
    sub=APPLICANT.account_id, name="张三", kind="natural_person", roles=frozenset({"applicant"})
)
STRANGER = Principal(sub="acct-lisi", name="李四", kind="natural_person", roles=frozenset({"applicant"}))


async def _decide(
    sessionmaker: async_sessionmaker[AsyncSession], part_no: str, org: str, refusal: str | None = None
) -> None:
    async with session_scope(sessionmaker) as session:
        await joint.decide_part(
            session,
            part_no,
            outcome="refused" if refusal else "approved",
            reason=refusal,
            decision=_decision(org, "不予行政许可决定书" if refusal else "准予行政许可决定书"),
            licence=None,
            source=SOURCE,
        )


class TestCombinedNoticePdf:
    """``GET /api/v1/joint-cases/{joint_no}/notice.pdf``: the one 联办结果告知书 as a PDF."""

    async def test_the_applicant_prints_every_departments_result_with_the_number_and_qr(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], items: list[str]
    ) -> None:
        case = await _open(client, items)
        joint_no = case["joint_no"]
        url = f"/joint-cases/{joint_no}/notice.pdf"
        parts = [(p["part_no"], p["department"]["code"]) for p in case["parts"]]
        for part_no, org in parts[:2]:
            await _decide(sessionmaker, part_no, org)
        # Not every part has decided: there is no combined notice yet.
        r = await client.get(url, headers=auth(HOLDER))
        assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
        await _decide(sessionmaker, *parts[2])
        r = await client.get(url, headers=auth(HOLDER))
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/pdf"
        assert r.headers["cache-control"] == "private, no-store"
        text = pdf_text(r.content)
        assert f"办件编号：{joint_no}" in text and "联办结果告知书" in text and "开办建设项目一件事" in text
        for org in NAMES.values():
            assert f"{org}「" in text
        assert "准予许可" in text and "不予许可" not in text and "行政复议" not in text
        assert qr_codes(r.content) == [PROGRESS + joint_no]
        assert embedded_fonts(r.content)

    async def test_a_refusal_is_told_once_with_each_reason_and_the_remedies(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], items: list[str]
    ) -> None:
        case = await _open(client, items)
        joint_no = case["joint_no"]
        (housing, _), (planning, _), (market, _) = (
            (p["part_no"], p["department"]["code"]) for p in case["parts"]
        )
        await _decide(sessionmaker, housing, ORG_CODE)
        await _decide(sessionmaker, planning, PLANNING, "规划条件不符")
        await _decide(sessionmaker, market, MARKET, "经营场所不符合要求")
        r = await client.get(f"/joint-cases/{joint_no}/notice.pdf", headers=auth(HOLDER))
        assert r.status_code == 200, r.text
        text = pdf_text(r.content)
        assert f"办件编号：{joint_no}" in text and text.count("联办不予许可告知") == 1
        assert "元江县自然资源局「" in text and "规划条件不符" in text
        assert "元江县市场监督管理局「" in text and "经营场所不符合要求" in text
        assert "其余事项已准予许可" in text
        assert "60日内" in text and "行政复议" in text and "6个月内" in text and "行政诉讼" in text
        assert qr_codes(r.content) == [PROGRESS + joint_no]

    async def test_deny_by_default_and_an_administrators_read_is_audited(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], items: list[str]
    ) -> None:
        case = await _open(client, items)
        joint_no = case["joint_no"]
        for p in case["parts"]:
            await _decide(sessionmaker, p["part_no"], p["department"]["code"])
        url = f"/joint-cases/{joint_no}/notice.pdf"
        agent = Principal(
            sub="acct-wangwu", name="王五", kind="natural_person", acting_for=APPLICANT.account_id
        )
        for allowed in (ACCEPTOR, SUPERVISOR, MARKET_REVIEWER, agent):
            assert (await client.get(url, headers=auth(allowed))).status_code == 200
        agent_elsewhere = Principal(
            sub="acct-wangwu", name="王五", kind="natural_person", acting_for="acct-lisi"
        )
        for denied in (STRANGER, agent_elsewhere, OTHER_ACCEPTOR, ELSEWHERE_SUPERVISOR):
            r = await client.get(url, headers=auth(denied))
            assert r.status_code == 404 and "开办建设项目一件事" not in r.text
        assert (await client.get(url)).status_code == 401
        assert (await client.get(url, headers=auth(ADMIN))).status_code == 403
        r = await client.get(url, headers=auth(ADMIN), params={"reason": "投诉核查"})
        assert r.status_code == 200
        audits = await outbox(sessionmaker, "yiwang.management.audit.recorded.v1")
        [audit] = [e["data"] for e in audits if e["data"]["target_id"] == joint_no]
        assert audit["reason"] == "投诉核查" and audit["actor_id"] == ADMIN.sub
        # An ordinary case number is no joint case.
        r = await client.get("/joint-cases/53042820260101000001X/notice.pdf", headers=auth(HOLDER))
        assert r.status_code == 404


async def _states(sessionmaker: async_sessionmaker[AsyncSession], joint_no: str) -> dict[str, str]:
    async with session_scope(sessionmaker) as session:
        view = await joint.joint_view(session, joint_no)
    assert view is not None
    return {p.part_no: p.status for p in view.parts}


class TestBuiltinPartSupplement:
    """business's 退回补正 of a built-in part (its clock paused with the applicant) shows 待补正."""

    async def test_paused_with_the_applicant_and_back_on_the_correction(
        self,
        client: httpx.AsyncClient,
        browser: Callable[[Principal], Browser],
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
        items: list[str],
    ) -> None:
        case = await _open(client, items)
        joint_no = case["joint_no"]
        housing = case["parts"][0]["part_no"]
        [business] = [
            s
            for s in JointEventHandlers(source=SOURCE, calendar=handlers.calendar).route_parts(
                handlers.subscriptions()
            )
            if s.source == "business"
        ]
        now = utcnow()

        async def deliver(data: CaseClockPaused | CaseClockResumed) -> None:
            envelope = make_event(data, source="urn:yiwang:530428:business", subject=data.case_no)
            async with session_scope(sessionmaker) as session:
                await business.handlers[type(data)](session, envelope, data)

        def paused(kind: PauseKind, at: datetime, case_no: str = housing) -> CaseClockPaused:
            return CaseClockPaused(
                case_no=case_no,
                application_id=uuid.uuid4(),
                kind=kind,
                kind_name="退回补正",
                reason="请补充施工图审查合格书",
                notify_applicant=True,
                paused_at=at,
            )

        # 挂起 inside the department is no 补正; an ordinary case's pause passes by.
        await deliver(paused("suspended", now))
        await deliver(paused("with_applicant", now, case_no="53042820260101000001X"))
        assert (await _states(sessionmaker, joint_no))[housing] == "dispatched"
        await deliver(paused("with_applicant", now))
        await deliver(paused("with_applicant", now))  # another event id, same request: one change
        assert (await _states(sessionmaker, joint_no))[housing] == "awaiting_supplement"
        page = (await browser(ACCEPTOR).http.get(f"{JOINT}/{joint_no}")).text
        assert "待补正" in _row(page, housing) and "申请补正：请补充施工图审查合格书" in _row(page, housing)
        resumed = CaseClockResumed(
            case_no=housing,
            application_id=uuid.uuid4(),
            kind="with_applicant",
            reason="已补充",
            paused_working_days=1,
            due_date=local_date(now) + timedelta(days=20),
            resumed_at=now + timedelta(hours=1),
        )
        await deliver(resumed)
        assert (await _states(sessionmaker, joint_no))[housing] == "in_progress"
        # A late copy of the old request does not take the part back.
        await deliver(paused("with_applicant", now))
        assert (await _states(sessionmaker, joint_no))[housing] == "in_progress"
        changed = [
            JointPartChanged.model_validate(e["data"])
            for e in await outbox(sessionmaker, JointPartChanged.subject)
            if e["data"]["part_no"] == housing
        ]
        assert [(c.status, c.note) for c in changed] == [
            ("awaiting_supplement", "请补充施工图审查合格书"),
            ("in_progress", "已补正材料"),
        ]


async def _part_clock(sessionmaker: async_sessionmaker[AsyncSession], joint_no: str, part_no: str) -> Any:
    async with session_scope(sessionmaker) as session:
        return (
            await session.execute(
                text(
                    "SELECT due_date, warn_date, paused, ended_at FROM case_step_clock "
                    "WHERE case_no = :c AND step_key = :k"
                ),
                {"c": joint_no, "k": part_no},
            )
        ).one()


class TestBuiltinPartClock:
    """management's step clock of a built-in part stands still while business has the part's clock
    stopped, and its due date moves by the working days it stood (ADR 0127)."""

    async def test_pauses_in_any_order_move_the_part_due_date_once(
        self,
        client: httpx.AsyncClient,
        browser: Callable[[Principal], Browser],
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
        items: list[str],
    ) -> None:
        case = await _open(client, items)
        joint_no = case["joint_no"]
        housing, other = case["parts"][0], case["parts"][1]
        part_no = housing["part_no"]
        calendar = handlers.calendar
        [business] = [
            s
            for s in JointEventHandlers(source=SOURCE, calendar=calendar).route_parts(
                handlers.subscriptions()
            )
            if s.source == "business"
        ]

        async def deliver(data: CaseClockPaused | CaseClockResumed) -> None:
            envelope = make_event(data, source="urn:yiwang:530428:business", subject=data.case_no)
            async with session_scope(sessionmaker) as session:
                await business.handlers[type(data)](session, envelope, data)

        def paused(kind: PauseKind, at: datetime) -> CaseClockPaused:
            return CaseClockPaused(
                case_no=part_no,
                application_id=uuid.uuid4(),
                kind=kind,
                kind_name="挂起",
                reason="等待上级批复",
                notify_applicant=kind != "suspended",
                paused_at=at,
            )

        def resumed(kind: PauseKind, at: datetime) -> CaseClockResumed:
            return CaseClockResumed(
                case_no=part_no,
                application_id=uuid.uuid4(),
                kind=kind,
                reason="恢复",
                paused_working_days=0,
                due_date=local_date(at),
                resumed_at=at,
            )

        async def view_part() -> dict[str, Any]:
            r = await client.get(f"/joint-cases/{joint_no}", headers=auth(ACCEPTOR))
            assert r.status_code == 200, r.text
            parts: list[dict[str, Any]] = r.json()["parts"]
            return parts[0]

        start = datetime.fromisoformat(housing["dispatched_at"])
        day0 = local_date(start)
        base_due = calendar.add_working_days(day0, housing["limit_days"])
        assert housing["due_date"] == base_due.isoformat()
        first_p, first_r = start + timedelta(days=1), start + timedelta(days=8)
        first = calendar.working_days_between(local_date(first_p), local_date(first_r))
        assert first > 0

        # The end of a 挂起 arrives before its start: nothing is known to have stood still yet.
        await deliver(resumed("suspended", first_r))
        assert (await view_part())["due_date"] == base_due.isoformat()
        # Its start arrives: the pause is whole, the due date moves by its working days, the clock runs.
        await deliver(paused("suspended", first_p))
        due = calendar.add_working_days(day0, housing["limit_days"] + first)
        part = await view_part()
        assert part["due_date"] == due.isoformat() and part["paused_days"] == first
        assert not part["clock_paused"]
        clock = await _part_clock(sessionmaker, joint_no, part_no)
        assert clock.due_date == due and not clock.paused
        assert clock.warn_date == calendar.subtract_working_days(due, SupervisionSettings().step_warn_days)
        # Replays of both change nothing.
        await deliver(paused("suspended", first_p))
        await deliver(resumed("suspended", first_r))
        assert (await view_part())["due_date"] == due.isoformat()

        # A 补正 stands the clock still: the sweep passes the part by even once past its old due date.
        second_p = start + timedelta(days=10)
        await deliver(paused("with_applicant", second_p))
        part = await view_part()
        assert part["clock_paused"] and part["status"] == "awaiting_supplement"
        assert (await _part_clock(sessionmaker, joint_no, part_no)).paused
        page = (await browser(ACCEPTOR).http.get(f"{JOINT}/{joint_no}")).text
        assert "暂停计时" in _row(page, part_no)
        counts = await _sweep(sessionmaker, due + timedelta(days=30), calendar)
        async with session_scope(sessionmaker) as session:
            warned = (
                await session.execute(
                    text("SELECT step_key FROM supervision_warning WHERE case_no = :c"), {"c": joint_no}
                )
            ).scalars()
            warned_keys = set(warned)
        # The other departments' parts (running) are warned; the stopped one is not.
        assert part_no not in warned_keys and other["part_no"] in warned_keys and counts["step_red"] >= 1

        second_r = start + timedelta(days=15)
        second = calendar.working_days_between(local_date(second_p), local_date(second_r))
        await deliver(resumed("with_applicant", second_r))
        await deliver(resumed("with_applicant", second_r))
        due = calendar.add_working_days(day0, housing["limit_days"] + first + second)
        part = await view_part()
        assert part["due_date"] == due.isoformat() and part["paused_days"] == first + second
        assert not part["clock_paused"] and part["status"] == "in_progress"
        clock = await _part_clock(sessionmaker, joint_no, part_no)
        assert clock.due_date == due and not clock.paused
        # A 退回补正 whose correction arrives first: the part never goes back to 待补正, the days count.
        third_p, third_r = start + timedelta(days=20), start + timedelta(days=22)
        third = calendar.working_days_between(local_date(third_p), local_date(third_r))
        await deliver(resumed("with_applicant", third_r))
        await deliver(paused("with_applicant", third_p))
        part = await view_part()
        assert part["status"] == "in_progress" and not part["clock_paused"]
        assert part["paused_days"] == first + second + third
        third_due = calendar.add_working_days(day0, housing["limit_days"] + first + second + third)
        assert part["due_date"] == third_due.isoformat()
        # The portal hears every move of the date (ADR 0132): with the part's own change when there
        # is one, alone (the status unchanged, no note) when there is not; replays say nothing.
        changed = [
            JointPartChanged.model_validate(e["data"])
            for e in await outbox(sessionmaker, JointPartChanged.subject)
            if e["data"]["part_no"] == part_no
        ]
        first_due = calendar.add_working_days(day0, housing["limit_days"] + first)
        assert [(c.status, c.note, c.due_date) for c in changed] == [
            (housing["status"], None, first_due),
            ("awaiting_supplement", "等待上级批复", first_due),
            ("in_progress", "已补正材料", due),
            ("in_progress", None, third_due),
        ]
        # The other parts' clocks never moved.
        r = await client.get(f"/joint-cases/{joint_no}", headers=auth(ACCEPTOR))
        assert r.json()["parts"][1]["due_date"] == other["due_date"]


async def _sweep(
    sessionmaker: async_sessionmaker[AsyncSession], today: date, calendar: WorkingDayCalendar
) -> dict[str, int]:
    result = await sweep(
        sessionmaker,
        tick=int(today.strftime("%Y%m%d")),
        calendar=calendar,
        defaults=SupervisionSettings(),
        source=SOURCE,
        worker="test",
        today=today,
    )
    assert result is not None
    return result.counts
