"""在线申请 and 我的办件 pages without JavaScript (ADR 0115): the form generated from the item's schema,
errors beside their fields, draft, upload and reuse, submit, the timeline with business's handling
events; CSRF and another account's draft."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from typing import Any

import httpx
from gateway_support import FORM, ITEM_CODE, PDF, Accounts, count, upload
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.auth import TokenIssuer
from yiwang_common.contracts.business import CaseClockPaused, CaseClockResumed, CaseReturned, CaseWithdrawn
from yiwang_common.contracts.management import ItemPublished
from yiwang_common.db import session_scope
from yiwang_common.events import make_event
from yiwang_common.staff_session import csrf_token
from yiwang_gateway.account.models import Account
from yiwang_gateway.account.service import account_service
from yiwang_gateway.application.models import Application, TimelineEntry
from yiwang_gateway.handling import events as handling

APPLY = f"/items/{ITEM_CODE}/apply"


def _session(issuer: TokenIssuer, account: Account) -> tuple[str, dict[str, str]]:
    token = issuer.issue(account_service.principal(account))
    return token, {"Cookie": f"yiwang_session={token}"}


def _fields(form: dict[str, Any]) -> dict[str, str]:
    return {f"f.{k}": str(v) for k, v in form.items()}


def _field_errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'<p class="field-error" id="field-\d+-error">([^：<]+)：([^<]+)</p>', html))


async def test_the_form_is_generated_from_the_schema_and_needs_a_session(
    client: httpx.AsyncClient, accounts: Accounts, issuer: TokenIssuer, item: ItemPublished
) -> None:
    assert (await client.get(APPLY)).status_code == 401
    _, headers = _session(issuer, accounts.zhangsan)
    r = await client.get(APPLY, headers=headers)
    assert r.status_code == 200
    labels = re.findall(r'<label for="field-\d+">([^<]+)<', r.text)
    assert labels == ["工程名称", "建设地址", "建设规模（平方米）"]
    assert 'name="f.area_m2" type="number"' in r.text and "required" in r.text
    assert [m for m in ("建筑工程施工许可证申请表", "建设工程规划许可证", "施工组织设计") if m in r.text] == [
        "建筑工程施工许可证申请表",
        "建设工程规划许可证",
        "施工组织设计",
    ]


async def test_invalid_then_valid_with_upload_reuse_draft_and_submit(
    client: httpx.AsyncClient,
    accounts: Accounts,
    issuer: TokenIssuer,
    item: ItemPublished,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    token, headers = _session(issuer, accounts.zhangsan)
    csrf = {"csrf": csrf_token(token)}
    earlier = await upload(client, {"Authorization": f"Bearer {token}"}, PDF + b"earlier")
    # Without the session's form token: refused, nothing saved.
    r = await client.post(APPLY, data=_fields(FORM) | {"action": "save"}, headers=headers)
    assert r.status_code == 400
    assert await count(sessionmaker, "application_draft") == 0
    # Invalid: a number that is not one, a required field left empty; the draft is saved anyway.
    bad = _fields(FORM) | {"f.area_m2": "很大", "f.address": "", "action": "submit"}
    r = await client.post(APPLY, data=bad | csrf, headers=headers)
    assert r.status_code == 422
    assert _field_errors(r.text) == {"建设规模（平方米）": "请填写数字"}
    draft_url = re.search(r'action="(/me/drafts/[0-9a-f-]{36})"', r.text)
    assert draft_url and await count(sessionmaker, "application") == 0
    url = draft_url.group(1)
    r = await client.post(
        url, data=_fields(FORM) | {"f.address": "", "action": "submit"} | csrf, headers=headers
    )
    assert r.status_code == 422 and _field_errors(r.text) == {"建设地址": "必填项未填写"}
    # Valid, a new file for M01 and an earlier upload reused for M02, saved.
    files = {"file.M01": ("申请表.pdf", PDF + b"new", "application/pdf")}
    data = _fields(FORM) | {"reuse.M02": earlier, "action": "save"} | csrf
    r = await client.post(url, data=data, files=files, headers=headers)
    assert r.status_code == 303 and r.headers["location"] == f"{url}?saved=1"
    r = await client.get(r.headers["location"], headers=headers)
    assert 'value="元江县澧江街道"' in r.text and "草稿已保存" in r.text
    kept = re.findall(r'name="keep" value="(M0\d):([0-9a-f]{64})" checked', r.text)
    assert [code for code, _ in kept] == ["M01", "M02"] and kept[1][1] == earlier
    # Another account's draft is not found.
    _, other = _session(issuer, accounts.lisi)
    assert (await client.get(url, headers=other)).status_code == 404
    # Submit: the application exists, the draft page now leads to its timeline.
    keep = [f"{c}:{sha}" for c, sha in kept]
    r = await client.post(
        url, data=_fields(FORM) | {"keep": keep, "action": "submit"} | csrf, headers=headers
    )
    assert r.status_code == 303, r.text
    target = r.headers["location"]
    assert re.fullmatch(r"/me/applications/[0-9a-f-]{36}\?submitted=1", target)
    async with session_scope(sessionmaker) as session:
        [app] = (await session.execute(select(Application))).scalars().all()
    assert app.form == FORM and [m["material_code"] for m in app.materials] == ["M01", "M02"]
    r = await client.get(target, headers=headers)
    assert r.status_code == 200 and "已提交申请" in r.text and "申请已提交" in r.text
    assert (await client.get(url, headers=headers)).headers["location"] == target.split("?")[0]
    assert (await client.get(target, headers=other)).status_code == 404


async def _application(client: httpx.AsyncClient, token: str, sessionmaker: Any) -> Application:
    r = await client.post(
        "/api/v1/applications",
        json={"item_code": ITEM_CODE, "form": FORM},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 202
    async with session_scope(sessionmaker) as session:
        app = await session.get(Application, uuid.UUID(r.json()["application_id"]))
        assert app is not None
        app.case_no, app.status, app.due_date = "53042820261202000001E", "accepted", date(2026, 12, 20)
    return app


async def test_business_events_on_the_timeline_once(
    client: httpx.AsyncClient,
    accounts: Accounts,
    issuer: TokenIssuer,
    item: ItemPublished,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    token, headers = _session(issuer, accounts.zhangsan)
    app = await _application(client, token, sessionmaker)
    at = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
    case_no = str(app.case_no)
    returned = CaseReturned(
        case_no=case_no,
        application_id=app.id,
        from_step_name="审查",
        to_applicant=True,
        reason="建设规模与图纸不符",
        handler_name="审查员",
    )
    paused = CaseClockPaused(
        case_no=case_no,
        application_id=app.id,
        kind="with_applicant",
        kind_name="补正",
        reason="建设规模与图纸不符",
        notify_applicant=True,
        paused_at=at,
    )
    resumed = CaseClockResumed(
        case_no=case_no,
        application_id=app.id,
        kind="with_applicant",
        reason="已更正",
        paused_working_days=2,
        due_date=date(2026, 12, 22),
        resumed_at=at,
    )
    withdrawn = CaseWithdrawn(case_no=case_no, application_id=app.id, reason="不再需要", withdrawn_at=at)
    stranger = CaseWithdrawn(case_no="X1", application_id=uuid.uuid4(), reason="?", withdrawn_at=at)
    handlers = [
        (returned, handling.on_returned),
        (paused, handling.on_clock_paused),
    ]
    for data, handler in handlers:
        envelope = make_event(data, source="urn:yiwang:530428:business", subject=case_no)
        for _ in range(2):  # a replay adds nothing
            async with session_scope(sessionmaker) as session:
                await handler(session, envelope, data)  # type: ignore[operator]
    r = await client.get(f"/me/applications/{app.id}", headers=headers)
    assert "退回补正，等待您补正" in r.text and "提交补正" in r.text and "撤回申请" in r.text
    for data, handler in [
        (resumed, handling.on_clock_resumed),
        (withdrawn, handling.on_withdrawn),
        (stranger, handling.on_withdrawn),
    ]:
        envelope = make_event(data, source="urn:yiwang:530428:business", subject=case_no)
        async with session_scope(sessionmaker) as session:
            await handler(session, envelope, data)  # type: ignore[operator]
    async with session_scope(sessionmaker) as session:
        titles = [
            t.title
            for t in (await session.execute(select(TimelineEntry).order_by(TimelineEntry.seq))).scalars()
        ]
        fresh = await session.get(Application, app.id)
    assert titles == ["已提交申请", "退回补正：请按要求补正", "已补正，恢复办理", "已撤回申请"]
    assert fresh is not None and fresh.clock is None and fresh.withdrawn_at == at
    assert fresh.due_date == date(2026, 12, 22)
    r = await client.get(f"/me/applications/{app.id}", headers=headers)
    assert 'id="case-status">已撤回' in r.text and "2026-12-22" in r.text and "撤回原因" not in r.text


async def test_withdraw_and_correction_are_refused_before_handling(
    client: httpx.AsyncClient, accounts: Accounts, issuer: TokenIssuer, item: ItemPublished, sessionmaker: Any
) -> None:
    token, _ = _session(issuer, accounts.zhangsan)
    auth = {"Authorization": f"Bearer {token}"}
    r = await client.post("/api/v1/applications", json={"item_code": ITEM_CODE, "form": FORM}, headers=auth)
    async with session_scope(sessionmaker) as session:
        app = await session.get(Application, uuid.UUID(r.json()["application_id"]))
        assert app is not None
        app.case_no, app.status = "53042820261202000002E", "pending_acceptance"
    r = await client.post(
        "/api/v1/cases/53042820261202000002E/withdraw", json={"reason": "不办了"}, headers=auth
    )
    assert r.status_code == 409 and r.json()["code"] == "case_not_in_handling"
    r = await client.post("/api/v1/cases/53042820261202000002E/correction", json={"note": "补"}, headers=auth)
    assert r.status_code == 409
    # Someone else's case, bad input, no token.
    _, _ = _session(issuer, accounts.lisi)
    other = {"Authorization": f"Bearer {issuer.issue(account_service.principal(accounts.lisi))}"}
    r = await client.post("/api/v1/cases/53042820261202000002E/withdraw", json={"reason": "x"}, headers=other)
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    r = await client.post("/api/v1/cases/53042820261202000002E/withdraw", json={"reason": ""}, headers=auth)
    assert r.status_code == 422
    r = await client.post(
        "/api/v1/cases/53042820261202000002E/correction",
        json={"form": {"area_m2": "很大"}, "note": "补"},
        headers=auth,
    )
    assert r.status_code == 409  # not in handling is checked first
    assert (
        await client.post("/api/v1/cases/53042820261202000002E/withdraw", json={"reason": "x"})
    ).status_code == 401
