"""联办 in the portal (ADR 0121): a joint case is projected onto ONE application with a part per
department; parts only move forward, a decided part stays decided, a part event before its case
waits (RetryLater), and the 我的办件 page lists each department's part and the combined result."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from gateway_support import Accounts, FakeManagement, envelope
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.auth import TokenIssuer
from yiwang_common.contracts.common import Applicant, DecisionDocument, Organisation
from yiwang_common.contracts.management import (
    JointCaseCompleted,
    JointCaseOpened,
    JointPartChanged,
    JointPartOutcome,
    JointPartSummary,
)
from yiwang_common.db import session_scope
from yiwang_common.events import EventData, RetryLater
from yiwang_gateway.account.service import account_service
from yiwang_gateway.application.models import Application, TimelineEntry
from yiwang_gateway.progress import events as handlers

JOINT_NO = "53042820261202000007K"
AT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
DEPARTMENTS = [
    Organisation(name="元江县住房和城乡建设局", code="11530428015176456L"),
    Organisation(name="元江县自然资源局", code="11530428000000102W"),
    Organisation(name="元江县市场监督管理局", code="115304280000001030"),
]
HANDLERS: dict[type[EventData], Any] = {
    JointCaseOpened: handlers.on_joint_case_opened,
    JointPartChanged: handlers.on_joint_part_changed,
    JointCaseCompleted: handlers.on_joint_case_completed,
}


def _opened(application_id: uuid.UUID, account_id: str) -> JointCaseOpened:
    return JointCaseOpened(
        joint_no=JOINT_NO,
        application_id=application_id,
        theme_name="开办建设项目一件事",
        applicant=Applicant(
            account_id=account_id,
            name="张三",
            kind="natural_person",
            id_type="111",
            id_number="530428199001011231",
        ),
        window=DEPARTMENTS[0],
        form={},
        materials=[],
        accepted_at=AT,
        due_date=date(2026, 12, 30),
        parts=[
            JointPartSummary(
                part_no=f"{JOINT_NO}P0{i}",
                item_code=f"{org.code}2000109003000",
                item_name=f"事项{i}",
                department=org,
                limit_days=5 * i,
                due_date=date(2026, 12, 8 + i),
            )
            for i, org in enumerate(DEPARTMENTS, start=1)
        ],
    )


def _changed(
    application_id: uuid.UUID,
    n: int,
    status: str,
    minutes: int,
    note: str | None = None,
    due_date: date | None = None,
) -> JointPartChanged:
    return JointPartChanged(
        joint_no=JOINT_NO,
        application_id=application_id,
        part_no=f"{JOINT_NO}P0{n}",
        item_name=f"事项{n}",
        department=DEPARTMENTS[n - 1],
        status=status,  # type: ignore[arg-type]
        changed_at=AT + timedelta(minutes=minutes),
        note=note,
        due_date=due_date,
    )


async def _deliver(sessionmaker: async_sessionmaker[AsyncSession], data: EventData) -> None:
    async with session_scope(sessionmaker) as session:
        await HANDLERS[type(data)](session, envelope(data, subject=JOINT_NO), data)


async def _parts(sessionmaker: async_sessionmaker[AsyncSession], application_id: uuid.UUID) -> list[str]:
    async with session_scope(sessionmaker) as session:
        app = await session.get(Application, application_id)
        assert app is not None and app.joint_parts is not None
        return [p["status"] for p in app.joint_parts]


async def _stored(sessionmaker: async_sessionmaker[AsyncSession], application_id: uuid.UUID) -> list[Any]:
    async with session_scope(sessionmaker) as session:
        app = await session.get(Application, application_id)
        assert app is not None and app.joint_parts is not None
        return list(app.joint_parts)


async def _titles(sessionmaker: async_sessionmaker[AsyncSession], application_id: uuid.UUID) -> list[str]:
    async with session_scope(sessionmaker) as session:
        rows = await session.scalars(
            select(TimelineEntry.title)
            .where(TimelineEntry.application_id == application_id)
            .order_by(TimelineEntry.at)
        )
        return list(rows)


async def test_a_parts_due_date_moves_alone_when_its_clock_stood_still(
    client: httpx.AsyncClient,
    accounts: Accounts,
    issuer: TokenIssuer,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """挂起 / 特殊程序 move a part's 办结期限 with its status unchanged (ADR 0132): the date and one line."""
    application_id = uuid.uuid4()
    await _deliver(sessionmaker, _opened(application_id, str(accounts.zhangsan.id)))
    await _deliver(sessionmaker, _changed(application_id, 2, "in_progress", 1, "已受理", date(2026, 12, 10)))
    before = await _titles(sessionmaker, application_id)
    # The department's 挂起 ended: the same status, a later date.
    await _deliver(sessionmaker, _changed(application_id, 2, "in_progress", 30, due_date=date(2026, 12, 17)))
    parts = await _stored(sessionmaker, application_id)
    assert [p["due_date"] for p in parts] == ["2026-12-09", "2026-12-17", "2026-12-11"]
    assert [p["status"] for p in parts] == ["dispatched", "in_progress", "dispatched"]
    titles = await _titles(sessionmaker, application_id)
    assert titles == [*before, "元江县自然资源局：办结期限调整"]
    # An older date (a redelivery overtaken) and the same date again change nothing, and add no line.
    await _deliver(sessionmaker, _changed(application_id, 2, "in_progress", 20, due_date=date(2026, 12, 14)))
    await _deliver(sessionmaker, _changed(application_id, 2, "in_progress", 40, due_date=date(2026, 12, 17)))
    # So does a repeat of the status with neither a note nor a date.
    await _deliver(sessionmaker, _changed(application_id, 2, "in_progress", 41))
    assert [p["due_date"] for p in await _stored(sessionmaker, application_id)][1] == "2026-12-17"
    assert await _titles(sessionmaker, application_id) == titles
    # An older status event redelivered late moves the status but not the newer date back.
    await _deliver(
        sessionmaker, _changed(application_id, 2, "awaiting_supplement", 25, "请补充", date(2026, 12, 14))
    )
    assert [p["due_date"] for p in await _stored(sessionmaker, application_id)][1] == "2026-12-17"
    # A status change carries the part's date with it.
    await _deliver(
        sessionmaker,
        _changed(application_id, 2, "awaiting_supplement", 50, "请补充平面图", date(2026, 12, 17)),
    )
    token = issuer.issue(account_service.principal(accounts.zhangsan))
    view = (
        await client.get(f"/api/v1/cases/{JOINT_NO}", headers={"Authorization": f"Bearer {token}"})
    ).json()
    assert [(p["status"], p["due_date"]) for p in view["parts"]] == [
        ("dispatched", "2026-12-09"),
        ("awaiting_supplement", "2026-12-17"),
        ("dispatched", "2026-12-11"),
    ]
    page = await client.get(
        f"/me/applications/{application_id}", headers={"Cookie": f"yiwang_session={token}"}
    )
    row = page.text.split(f'data-part="{JOINT_NO}P02"')[1].split("</tr>")[0]
    assert "2026-12-17（10 个工作日）" in row
    assert "计时暂停的工作日不计入，办结期限为 2026-12-17" in page.text


async def test_one_case_its_parts_in_order_and_the_combined_result(
    client: httpx.AsyncClient,
    accounts: Accounts,
    issuer: TokenIssuer,
    sessionmaker: async_sessionmaker[AsyncSession],
    fake_management: FakeManagement,
) -> None:
    application_id = uuid.uuid4()
    account_id = accounts.zhangsan.id
    # A part event before the case itself waits for it.
    with pytest.raises(RetryLater):
        await _deliver(sessionmaker, _changed(application_id, 1, "in_progress", 1))
    await _deliver(sessionmaker, _opened(application_id, str(account_id)))
    assert await _parts(sessionmaker, application_id) == ["dispatched"] * 3
    await _deliver(sessionmaker, _changed(application_id, 3, "awaiting_supplement", 5, "请补充平面图"))
    # A late, older event does not move the part back; a later one does.
    await _deliver(sessionmaker, _changed(application_id, 3, "in_progress", 2))
    assert await _parts(sessionmaker, application_id) == ["dispatched", "dispatched", "awaiting_supplement"]
    await _deliver(sessionmaker, _changed(application_id, 3, "in_progress", 6, "已补正材料"))
    await _deliver(sessionmaker, _changed(application_id, 1, "approved", 7))
    # A decided part stays decided, whatever comes after it.
    await _deliver(sessionmaker, _changed(application_id, 1, "in_progress", 8))
    assert await _parts(sessionmaker, application_id) == ["approved", "dispatched", "in_progress"]

    token = issuer.issue(account_service.principal(accounts.zhangsan))
    r = await client.get(f"/api/v1/cases/{JOINT_NO}", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["status"] == "accepted" and view["item"]["name"] == "开办建设项目一件事"
    assert [(p["department"]["name"], p["status_text"]) for p in view["parts"]] == [
        ("元江县住房和城乡建设局", "准予许可"),
        ("元江县自然资源局", "已分派"),
        ("元江县市场监督管理局", "办理中"),
    ]
    assert view["parts"][2]["note"] == "已补正材料" and view["parts"][2]["limit_days"] == 15

    decision = DecisionDocument(
        document_no=f"{JOINT_NO}-联办",
        title="联办结果告知书",
        body="…",
        decided_at=AT + timedelta(hours=2),
        decider_name=DEPARTMENTS[0].name,
        org=DEPARTMENTS[0],
    )
    outcomes = [
        JointPartOutcome(
            part_no=f"{JOINT_NO}P0{i}",
            item_code=f"{org.code}2000109003000",
            item_name=f"事项{i}",
            department=org,
            outcome="refused" if i == 2 else "approved",
            reason="不符合规划条件" if i == 2 else None,
        )
        for i, org in enumerate(DEPARTMENTS, start=1)
    ]
    done = JointCaseCompleted(
        joint_no=JOINT_NO,
        applicant_id=str(account_id),
        outcome="refused",
        parts=outcomes,
        notice_text="联办不予许可告知书\n元江县自然资源局「事项2」：不符合规划条件",
        completed_at=AT + timedelta(hours=2),
        application_id=None,  # an older producer: found by its 办件编号
        decision=decision,
    )
    await _deliver(sessionmaker, done)
    assert await _parts(sessionmaker, application_id) == ["approved", "refused", "approved"]
    page = await client.get(
        f"/me/applications/{application_id}", headers={"Cookie": f"yiwang_session={token}"}
    )
    assert page.status_code == 200
    table = page.text.split('id="joint-parts"')[1].split("</table>")[0]
    assert table.count("<tr data-part=") == 3 and "不予许可：不符合规划条件" in table
    assert "已办结（联办）：不予许可" in page.text and "撤回申请" not in page.text
    r = await client.get(f"/api/v1/cases/{JOINT_NO}", headers={"Authorization": f"Bearer {token}"})
    assert r.json()["result"]["notice_text"].startswith("联办不予许可告知书")
    # 我的办件 links the combined notice (a PDF from management, see tests/test_joint_portal.py).
    space = await client.get("/me", headers={"Cookie": f"yiwang_session={token}"})
    assert f'href="/me/cases/{JOINT_NO}/notices/joint.pdf">联办结果告知书（PDF）' in space.text
    # Someone else's joint case is "not there" from the portal's own record: management is never
    # asked (the owner's request is; the real rendering is tests/test_joint_portal.py).
    assert (
        await client.get(
            f"/api/v1/cases/{JOINT_NO}/notices/joint.pdf", headers={"Authorization": f"Bearer {token}"}
        )
    ).status_code == 404  # the stand-in has no such document
    assert [q.url.path for q in fake_management.requests] == [f"/api/v1/joint-cases/{JOINT_NO}/notice.pdf"]
    stranger = issuer.issue(account_service.principal(accounts.lisi))
    r = await client.get(
        f"/api/v1/cases/{JOINT_NO}/notices/joint.pdf", headers={"Authorization": f"Bearer {stranger}"}
    )
    assert r.status_code == 404 and r.json()["code"] == "notice_not_issued"
    r = await client.get(
        f"/me/cases/{JOINT_NO}/notices/joint.pdf", headers={"Cookie": f"yiwang_session={stranger}"}
    )
    assert r.status_code == 404 and len(fake_management.requests) == 1
    # Every kind on the page route, as on the API: the portal's record is checked first.
    for kind in ("acceptance", "supplement", "rejection"):
        r = await client.get(
            f"/me/cases/{JOINT_NO}/notices/{kind}.pdf", headers={"Cookie": f"yiwang_session={stranger}"}
        )
        assert r.status_code == 404, kind
    assert len(fake_management.requests) == 1
    async with session_scope(sessionmaker) as session:
        applications = (await session.execute(select(func.count()).select_from(Application))).scalar_one()
        titles = [
            t.title
            for t in (await session.execute(select(TimelineEntry).order_by(TimelineEntry.seq))).scalars()
        ]
    assert applications == 1
    assert titles[0] == "已受理（联办）" and titles[-1] == "已办结（联办）：不予许可"
    # Only the moves that happened show: not the late one, nor one after a decision.
    assert (
        titles.count("元江县市场监督管理局：办理中") == 1 and "元江县住房和城乡建设局：办理中" not in titles
    )
    assert titles[1:4] == [
        "元江县市场监督管理局：待补正",
        "元江县市场监督管理局：办理中",
        "元江县住房和城乡建设局：准予许可",
    ]


async def test_a_parts_supplement_is_checked_against_the_portals_own_record_first(
    client: httpx.AsyncClient,
    accounts: Accounts,
    issuer: TokenIssuer,
    sessionmaker: async_sessionmaker[AsyncSession],
    fake_management: FakeManagement,
) -> None:
    """ADR 0127: someone else's joint case, an unknown part and a part not 待补正 are answered by the
    portal from its own record, without asking management; management's refusal is passed on."""
    application_id = uuid.uuid4()
    await _deliver(sessionmaker, _opened(application_id, str(accounts.zhangsan.id)))
    await _deliver(sessionmaker, _changed(application_id, 3, "awaiting_supplement", 5, "请补充平面图"))
    mine = {"Authorization": f"Bearer {issuer.issue(account_service.principal(accounts.zhangsan))}"}
    other = {"Authorization": f"Bearer {issuer.issue(account_service.principal(accounts.lisi))}"}
    body = {"note": "已补充平面图"}

    def url(n: int) -> str:
        return f"/api/v1/cases/{JOINT_NO}/parts/{JOINT_NO}P0{n}/supplements"

    r = await client.post(url(3), json=body, headers=other)
    assert r.status_code == 404 and r.json()["code"] == "case_not_found"
    assert r.headers["content-type"].startswith("application/problem+json")
    r = await client.post(
        f"/api/v1/cases/{JOINT_NO}/parts/{JOINT_NO}P09/supplements", json=body, headers=mine
    )
    assert r.status_code == 404 and r.json()["code"] == "joint_part_not_found"
    r = await client.post(url(1), json=body, headers=mine)
    assert r.status_code == 409 and r.json()["code"] == "joint_part_not_awaiting_supplement"
    assert r.json()["part_status"] == "dispatched"
    r = await client.post(url(3), json={}, headers=mine)
    assert r.status_code == 422
    assert fake_management.requests == []
    # The part asked: management decides (this stand-in knows no such part, so: not found).
    r = await client.post(url(3), json=body, headers=mine)
    assert r.status_code == 404 and r.json()["code"] == "joint_part_not_found"
    assert [q.url.path for q in fake_management.requests] == [
        f"/api/v1/joint-cases/{JOINT_NO}/parts/{JOINT_NO}P03/correction"
    ]
    assert await _parts(sessionmaker, application_id) == ["dispatched", "dispatched", "awaiting_supplement"]
