"""补正材料: supplementing materials after a one-time notice."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest
from gateway_cases import (
    CASE_NO,
    M02,
    M03,
    case_view,
    deliver,
    registered,
    stored_application,
    submit_application,
    supplement_requested,
)
from gateway_support import Accounts, count, upload
from sqlalchemy import select

from yiwang_common.contracts.common import MissingMaterial
from yiwang_common.contracts.management import (
    ItemPublished,
)
from yiwang_common.db import session_scope, utcnow
from yiwang_gateway.db import messaging


class TestLifecycleOrder:
    """The projection follows the contracts' lifecycle order (yiwang_common.contracts.lifecycle)."""

    async def _supplemented(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, sessionmaker: Any
    ) -> uuid.UUID:
        app_id = await submit_application(client, auth(accounts.zhangsan))
        z = accounts.zhangsan
        await deliver(sessionmaker, registered(app_id, z, [M02]), supplement_requested(app_id, z, [M02]))
        headers = auth(accounts.zhangsan)
        sha = await upload(client, headers)
        r = await client.post(
            f"/api/v1/cases/{CASE_NO}/supplements",
            json={"materials": [{"material_code": "M02", "sha256": sha}]},
            headers=headers,
        )
        assert r.status_code == 202
        return app_id

    async def test_an_older_notice_arriving_after_the_supplement_does_not_undo_it(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        app_id = await self._supplemented(client, accounts, auth, sessionmaker)
        # Another copy of the first notice (issued before the supplement), under a new event id.
        await deliver(sessionmaker, supplement_requested(app_id, accounts.zhangsan, [M02]))
        app = await stored_application(sessionmaker, app_id)
        assert (app.status, app.missing_materials) == ("pending_acceptance", [])

    async def test_a_second_notice_after_the_supplement_applies(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        app_id = await self._supplemented(client, accounts, auth, sessionmaker)
        second = supplement_requested(app_id, accounts.zhangsan, [M03]).model_copy(
            update={"issued_at": utcnow() + timedelta(minutes=1)}
        )
        await deliver(sessionmaker, second)
        view = await case_view(client, auth(accounts.zhangsan))
        assert (view["status"], view["status_text"]) == ("awaiting_supplement", "待补正")

    async def test_a_late_registration_after_the_notice_keeps_awaiting_supplement(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        app_id = await submit_application(client, auth(accounts.zhangsan))
        z = accounts.zhangsan
        await deliver(sessionmaker, supplement_requested(app_id, z, [M02]), registered(app_id, z, [M02, M03]))
        app = await stored_application(sessionmaker, app_id)
        assert (app.status, [m["code"] for m in app.missing_materials]) == ("awaiting_supplement", ["M02"])


class TestSupplement:
    async def _awaiting(
        self,
        client: httpx.AsyncClient,
        accounts: Accounts,
        auth: Any,
        sessionmaker: Any,
        missing: list[MissingMaterial],
    ) -> uuid.UUID:
        app_id = await submit_application(client, auth(accounts.zhangsan))
        z = accounts.zhangsan
        await deliver(sessionmaker, registered(app_id, z, missing), supplement_requested(app_id, z, missing))
        return app_id

    async def test_supplying_everything_emits_event_and_waits_for_acceptance_again(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        app_id = await self._awaiting(client, accounts, auth, sessionmaker, [M02])
        headers = auth(accounts.zhangsan)
        sha = await upload(client, headers)
        r = await client.post(
            f"/api/v1/cases/{CASE_NO}/supplements",
            json={"materials": [{"material_code": "M02", "sha256": sha}]},
            headers=headers,
        )
        assert r.status_code == 202
        assert (r.json()["status"], r.json()["missing_materials"]) == ("pending_acceptance", [])
        async with session_scope(sessionmaker) as session:
            rows = (await session.execute(select(messaging.outbox).order_by(messaging.outbox.c.seq))).all()
        assert rows[-1].subject == "yiwang.gateway.application.supplemented.v1"
        event = orjson.loads(rows[-1].payload)
        assert (event["subject"], event["correlationid"]) == (CASE_NO, CASE_NO)
        assert event["data"]["application_id"] == str(app_id)
        assert event["data"]["applicant_id"] == str(accounts.zhangsan.id)
        assert [(m["material_code"], m["sha256"]) for m in event["data"]["materials"]] == [("M02", sha)]
        view = await case_view(client, headers)
        assert view["timeline"][-1]["title"] == "已补正材料"
        assert ("M02", sha) in [(m["material_code"], m["sha256"]) for m in view["materials"]]

    async def test_partial_supplement_stays_awaiting_with_the_rest_missing(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        await self._awaiting(client, accounts, auth, sessionmaker, [M02, M03])
        headers = auth(accounts.zhangsan)
        sha = await upload(client, headers)
        r = await client.post(
            f"/api/v1/cases/{CASE_NO}/supplements",
            json={"materials": [{"material_code": "M02", "sha256": sha}]},
            headers=headers,
        )
        assert r.status_code == 202
        assert r.json()["status"] == "awaiting_supplement"
        assert [m["code"] for m in r.json()["missing_materials"]] == ["M03"]

    async def test_not_awaiting_supplement_is_409(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        app_id = await submit_application(client, auth(accounts.zhangsan))
        await deliver(sessionmaker, registered(app_id, accounts.zhangsan))
        headers = auth(accounts.zhangsan)
        sha = await upload(client, headers)
        before = await count(sessionmaker, "outbox")
        r = await client.post(
            f"/api/v1/cases/{CASE_NO}/supplements",
            json={"materials": [{"material_code": "M02", "sha256": sha}]},
            headers=headers,
        )
        assert r.status_code == 409
        assert r.json()["code"] == "case_not_awaiting_supplement"
        # RFC 9457: ``status`` is the HTTP status; the case's own status has a member of its own.
        assert r.json()["status"] == 409
        assert r.json()["case_status"] == "pending_acceptance"
        assert await count(sessionmaker, "outbox") == before

    async def test_another_applicants_case_is_404(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        await self._awaiting(client, accounts, auth, sessionmaker, [M02])
        headers = auth(accounts.lisi)
        sha = await upload(client, headers)
        r = await client.post(
            f"/api/v1/cases/{CASE_NO}/supplements",
            json={"materials": [{"material_code": "M02", "sha256": sha}]},
            headers=headers,
        )
        assert r.status_code == 404

    @pytest.mark.parametrize(
        ("materials", "status", "code"),
        [
            ([], 422, "validation_failed"),
            ([{"material_code": "M02", "sha256": "a" * 64}], 422, "material_not_uploaded"),
            ([{"material_code": "M77", "sha256": "a" * 64}], 422, "material_not_requested"),
        ],
    )
    async def test_bad_references_are_rejected_and_change_nothing(
        self,
        client: httpx.AsyncClient,
        accounts: Accounts,
        auth: Any,
        item: ItemPublished,
        sessionmaker: Any,
        materials: list[dict[str, str]],
        status: int,
        code: str,
    ) -> None:
        app_id = await self._awaiting(client, accounts, auth, sessionmaker, [M02])
        before = (await count(sessionmaker, "outbox"), await count(sessionmaker, "timeline_entry"))
        r = await client.post(
            f"/api/v1/cases/{CASE_NO}/supplements",
            json={"materials": materials},
            headers=auth(accounts.zhangsan),
        )
        assert (r.status_code, r.json()["code"]) == (status, code)
        assert (await count(sessionmaker, "outbox"), await count(sessionmaker, "timeline_entry")) == before
        assert (await stored_application(sessionmaker, app_id)).status == "awaiting_supplement"


class TestSupplementScope:
    async def test_a_material_the_notice_did_not_ask_for_is_refused_and_changes_nothing(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        headers = auth(accounts.zhangsan)
        first = await upload(client, headers)
        app_id = await submit_application(client, headers, [{"material_code": "M01", "sha256": first}])
        z = accounts.zhangsan
        await deliver(sessionmaker, registered(app_id, z, [M03]), supplement_requested(app_id, z, [M03]))
        before = (await count(sessionmaker, "outbox"), await count(sessionmaker, "timeline_entry"))
        other = await upload(client, headers, content=b"%PDF-1.7\nanother")
        r = await client.post(
            f"/api/v1/cases/{CASE_NO}/supplements",
            json={"materials": [{"material_code": "M01", "sha256": other}]},
            headers=headers,
        )
        assert (r.status_code, r.json()["code"]) == (422, "material_not_requested")
        assert (r.json()["not_requested"], r.json()["requested"]) == (["M01"], ["M03"])
        assert (await count(sessionmaker, "outbox"), await count(sessionmaker, "timeline_entry")) == before
        app = await stored_application(sessionmaker, app_id)
        assert app.status == "awaiting_supplement"
        assert [m["sha256"] for m in app.materials] == [first]

    async def test_mixing_a_requested_and_an_unrequested_material_is_refused_whole(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        await self._awaiting(client, accounts, auth, sessionmaker, [M02])
        headers = auth(accounts.zhangsan)
        sha = await upload(client, headers)
        r = await client.post(
            f"/api/v1/cases/{CASE_NO}/supplements",
            json={
                "materials": [
                    {"material_code": "M02", "sha256": sha},
                    {"material_code": "M01", "sha256": sha},
                ]
            },
            headers=headers,
        )
        assert (r.status_code, r.json()["code"]) == (422, "material_not_requested")

    _awaiting = TestSupplement._awaiting
