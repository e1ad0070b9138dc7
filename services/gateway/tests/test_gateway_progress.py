"""办件进度: the case-event projection, the applicant's case view, and supplements (补正)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
from gateway_cases import (
    CASE_NO,
    M02,
    M03,
    accepted,
    accepted_with_materials_owed,
    case_view,
    completed,
    deliver,
    registered,
    rejected,
    stored_application,
    submit_application,
    supplement_requested,
)
from gateway_support import Accounts, count, envelope

from yiwang_common.config import NatsSettings
from yiwang_common.contracts.management import (
    CaseRegistered,
    ItemPublished,
)
from yiwang_common.db import session_scope
from yiwang_common.events import ConsumerRunner
from yiwang_common.events.consumer import _Parsed
from yiwang_gateway.db import messaging
from yiwang_gateway.main import MANAGEMENT_SUBSCRIPTION
from yiwang_gateway.progress import events as handlers


class TestCaseHandlers:
    async def test_registered_sets_case_no_status_and_timeline(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        headers = auth(accounts.zhangsan)
        app_id = await submit_application(client, headers)
        await deliver(sessionmaker, registered(app_id, accounts.zhangsan, [M02]))
        view = await case_view(client, headers)
        assert (view["status"], view["status_text"]) == ("pending_acceptance", "待受理")
        assert view["missing_materials"] == [M02.model_dump()]
        assert [t["title"] for t in view["timeline"]] == ["已提交申请", "已登记，等待受理"]
        assert "建设工程规划许可证" in view["timeline"][1]["detail"]

    async def test_full_approved_path_shows_result_licence_and_steps(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        headers = auth(accounts.zhangsan)
        app_id = await submit_application(client, headers)
        z = accounts.zhangsan
        await deliver(sessionmaker, registered(app_id, z, [M02]), supplement_requested(app_id, z, [M02]))
        assert (await case_view(client, headers))["status"] == "awaiting_supplement"
        await deliver(sessionmaker, accepted(app_id, z), completed(app_id, z))
        view = await case_view(client, headers)
        assert (view["status"], view["outcome"], view["on_time"], view["due_date"]) == (
            "completed",
            "approved",
            True,
            "2026-11-30",
        )
        assert view["result"]["decision"]["document_no"] == "元住建施许〔2026〕第000001号"
        assert view["result"]["licence"]["type_name"] == "建筑工程施工许可证"
        assert [s["step_key"] for s in view["steps"]] == ["apply", "accept"]
        assert [t["title"] for t in view["timeline"]] == [
            "已提交申请",
            "已登记，等待受理",
            "一次性告知：请补正材料",
            "已受理",
            "已办结：准予许可",
        ]
        assert view["missing_materials"] == []

    async def test_rejected_shows_reason(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        headers = auth(accounts.zhangsan)
        app_id = await submit_application(client, headers)
        await deliver(
            sessionmaker, registered(app_id, accounts.zhangsan), rejected(app_id, accounts.zhangsan)
        )
        view = await case_view(client, headers)
        assert (view["status"], view["status_text"]) == ("not_accepted", "不予受理")
        assert view["timeline"][-1] == {
            "at": view["timeline"][-1]["at"],
            "title": "不予受理",
            "detail": "不属于本机关职权范围",
            "data": {"notice_no": "不予受理〔2026〕1号"},
        }

    async def test_deferred_acceptance_tells_what_is_owed_and_by_when(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        headers = auth(accounts.zhangsan)
        app_id = await submit_application(client, headers)
        z = accounts.zhangsan
        await deliver(sessionmaker, registered(app_id, z, [M03]), accepted_with_materials_owed(app_id, z))
        view = await case_view(client, headers)
        # 已受理（容缺待补）: accepted, the owed material still to hand in (ADR 0119).
        assert (view["status"], view["status_text"]) == ("accepted", "已受理（容缺待补）")
        assert [m["code"] for m in view["missing_materials"]] == ["M03"]
        assert view["timeline"][-1]["title"] == "已容缺受理：请按期补齐材料"
        assert "2026-11-27 前补齐：施工组织设计" in view["timeline"][-1]["detail"]
        await deliver(sessionmaker, accepted(app_id, z))
        view = await case_view(client, headers)
        assert (view["status"], view["status_text"], view["missing_materials"]) == ("accepted", "已受理", [])
        unknown = uuid.uuid4()
        await deliver(sessionmaker, accepted_with_materials_owed(unknown, z))
        assert await count(sessionmaker, "application") == 1

    async def test_status_never_moves_backwards(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        app_id = await submit_application(client, auth(accounts.zhangsan))
        z = accounts.zhangsan
        await deliver(sessionmaker, registered(app_id, z), accepted(app_id, z))
        await deliver(sessionmaker, registered(app_id, z, [M02]), supplement_requested(app_id, z, [M02]))
        app = await stored_application(sessionmaker, app_id)
        assert (app.status, app.missing_materials, app.due_date) == ("accepted", [], date(2026, 11, 30))

    async def test_registration_of_a_case_not_submitted_here_creates_it(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, sessionmaker: Any
    ) -> None:
        app_id = uuid.uuid4()
        await deliver(sessionmaker, registered(app_id, accounts.lisi))
        view = await case_view(client, auth(accounts.lisi))
        assert (view["application_id"], view["status"]) == (str(app_id), "pending_acceptance")

    async def test_events_for_unknown_applications_are_ignored(
        self, accounts: Accounts, sessionmaker: Any
    ) -> None:
        app_id = uuid.uuid4()
        await deliver(sessionmaker, rejected(app_id, accounts.lisi), completed(app_id, accounts.lisi))
        assert await count(sessionmaker, "application") == 0

    async def test_replayed_event_through_the_inbox_is_applied_once(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        app_id = await submit_application(client, auth(accounts.zhangsan))
        runner = ConsumerRunner(None, sessionmaker, messaging.inbox, MANAGEMENT_SUBSCRIPTION, NatsSettings())  # type: ignore[arg-type]
        data = registered(app_id, accounts.zhangsan)
        env = envelope(data, subject=CASE_NO)
        msg = type("Msg", (), {"subject": CaseRegistered.subject})()
        for _ in range(2):
            await runner._process([_Parsed(msg, env, data, handlers.on_case_registered)])  # type: ignore[arg-type]
        # And once more bypassing the inbox: the handler itself adds no second timeline entry.
        await deliver_envelope(sessionmaker, env, data)
        assert await count(sessionmaker, "timeline_entry") == 2
        assert await count(sessionmaker, "inbox") == 1


async def deliver_envelope(sessionmaker: Any, env: Any, data: CaseRegistered) -> None:
    async with session_scope(sessionmaker) as session:
        await handlers.on_case_registered(session, env, data)


class TestCaseView:
    async def test_another_applicant_gets_404(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        app_id = await submit_application(client, auth(accounts.zhangsan))
        await deliver(sessionmaker, registered(app_id, accounts.zhangsan))
        for who in (accounts.lisi, accounts.chuangkou):
            r = await client.get(f"/api/v1/cases/{CASE_NO}", headers=auth(who))
            assert r.status_code == 404
            assert r.json()["code"] == "case_not_found"

    async def test_unknown_case_is_404_and_anonymous_401(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any
    ) -> None:
        assert (await client.get("/api/v1/cases/nope", headers=auth(accounts.zhangsan))).status_code == 404
        assert (await client.get(f"/api/v1/cases/{CASE_NO}")).status_code == 401
