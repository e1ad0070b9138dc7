"""网上申请: submission, idempotency, validation, the applicant's list and detail."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from gateway_support import FORM, ITEM_CODE, Accounts, count, upload
from sqlalchemy import select

from yiwang_common.contracts.management import ItemPublished
from yiwang_common.db import session_scope
from yiwang_common.testing import outbox_events
from yiwang_gateway.application.models import Application, TimelineEntry
from yiwang_gateway.db import messaging

URL = "/api/v1/applications"
PNG = b"\x89PNG\r\n\x1a\n" + b"p" * 40


async def _outbox(sessionmaker: Any) -> list[tuple[str, dict[str, Any]]]:
    return await outbox_events(sessionmaker, messaging.outbox)


async def _table_counts(sessionmaker: Any) -> tuple[int, int, int]:
    return (
        await count(sessionmaker, "application"),
        await count(sessionmaker, "outbox"),
        await count(sessionmaker, "timeline_entry"),
    )


def _body(sha: str, **overrides: Any) -> dict[str, Any]:
    return {
        "item_code": ITEM_CODE,
        "form": FORM,
        "materials": [{"material_code": "M01", "sha256": sha}],
    } | overrides


class TestSubmitApplication:
    async def test_records_application_timeline_and_event_in_one_unit(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        headers = auth(accounts.zhangsan)
        sha = await upload(client, headers)
        r = await client.post(URL, json=_body(sha), headers=headers)
        assert r.status_code == 202
        body = r.json()
        app_id = body["application_id"]
        assert body["status"] == "submitted"
        assert body["links"]["self"] == f"/api/v1/applications/{app_id}"
        [(subject, event)] = await _outbox(sessionmaker)
        assert subject == "yiwang.gateway.application.submitted.v1"
        assert event["subject"] == app_id
        data = event["data"]
        assert data["application_id"] == app_id
        assert data["item_code"] == ITEM_CODE
        assert data["applicant"] == {
            "account_id": str(accounts.zhangsan.id),
            "name": "张三",
            "kind": "natural_person",
            "id_type": "111",
            "id_number": "530428199001011231",
            "phone": "13800000001",
        }
        assert data["materials"][0]["name"] == "建筑工程施工许可证申请表"
        assert data["materials"][0]["sha256"] == sha
        assert data["form"] == FORM
        async with session_scope(sessionmaker) as session:
            timeline = (await session.execute(select(TimelineEntry))).scalars().all()
        assert [t.title for t in timeline] == ["已提交申请"]

    async def test_legal_person_applies_with_uscc(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        r = await client.post(URL, json=_body("0" * 64, materials=[]), headers=auth(accounts.yjcj))
        assert r.status_code == 202
        [(_, event)] = await _outbox(sessionmaker)
        assert event["data"]["applicant"]["id_type"] == "001"
        assert event["data"]["applicant"]["kind"] == "legal_person"

    async def test_several_files_for_one_material_and_missing_required_are_allowed(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        headers = auth(accounts.zhangsan)
        first, second = await upload(client, headers, PNG), await upload(client, headers, PNG + b"2")
        materials = [{"material_code": "M02", "sha256": first}, {"material_code": "M02", "sha256": second}]
        r = await client.post(URL, json=_body("", materials=materials), headers=headers)
        assert r.status_code == 202
        [(_, event)] = await _outbox(sessionmaker)
        assert [m["sha256"] for m in event["data"]["materials"]] == [first, second]

    async def test_same_idempotency_key_and_body_replays_the_first_answer(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        headers = auth(accounts.zhangsan) | {"Idempotency-Key": "k-1"}
        sha = await upload(client, headers)
        first = await client.post(URL, json=_body(sha), headers=headers)
        again = await client.post(URL, json=_body(sha), headers=headers)
        assert first.status_code == again.status_code == 202
        assert again.json() == first.json()
        assert await _table_counts(sessionmaker) == (1, 1, 1)

    async def test_same_key_different_body_is_409(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        headers = auth(accounts.zhangsan) | {"Idempotency-Key": "k-2"}
        sha = await upload(client, headers)
        assert (await client.post(URL, json=_body(sha), headers=headers)).status_code == 202
        r = await client.post(URL, json=_body(sha, form=FORM | {"address": "别处"}), headers=headers)
        assert r.status_code == 409
        assert r.json()["code"] == "idempotency_key_reused"
        assert await _table_counts(sessionmaker) == (1, 1, 1)

    async def test_same_key_from_another_account_is_a_new_application(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        for who in (accounts.zhangsan, accounts.lisi):
            r = await client.post(
                URL, json=_body("", materials=[]), headers=auth(who) | {"Idempotency-Key": "same"}
            )
            assert r.status_code == 202
        assert await count(sessionmaker, "application") == 2

    @pytest.mark.parametrize("key", ["", "k" * 256])
    async def test_bad_idempotency_key_is_422(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, key: str
    ) -> None:
        r = await client.post(
            URL, json=_body("", materials=[]), headers=auth(accounts.zhangsan) | {"Idempotency-Key": key}
        )
        assert r.status_code == 422

    async def test_unknown_item_is_404(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        r = await client.post(
            URL, json=_body("", item_code="NOPE", materials=[]), headers=auth(accounts.zhangsan)
        )
        assert r.status_code == 404
        assert r.json()["code"] == "item_not_found"
        assert await _table_counts(sessionmaker) == (0, 0, 0)

    @pytest.mark.parametrize(
        ("form", "fields"),
        [
            ({"project_name": "x"}, ["address", "area_m2"]),
            (FORM | {"area_m2": "很大"}, ["area_m2"]),
            (FORM | {"project_name": "   "}, ["project_name"]),
            (FORM | {"area_m2": True}, ["area_m2"]),
        ],
    )
    async def test_form_against_schema_is_422_listing_fields(
        self,
        client: httpx.AsyncClient,
        accounts: Accounts,
        auth: Any,
        item: ItemPublished,
        sessionmaker: Any,
        form: dict[str, Any],
        fields: list[str],
    ) -> None:
        r = await client.post(URL, json=_body("", form=form, materials=[]), headers=auth(accounts.zhangsan))
        assert r.status_code == 422
        assert r.json()["code"] == "form_invalid"
        assert [f["field"] for f in r.json()["fields"]] == fields
        assert await _table_counts(sessionmaker) == (0, 0, 0)

    @pytest.mark.parametrize(
        "body",
        [
            {"item_code": ITEM_CODE, "form": ["not", "an", "object"]},
            {"item_code": ITEM_CODE},
            {"form": FORM},
            {"item_code": ITEM_CODE, "form": FORM, "materials": [{"material_code": "M01", "sha256": "XYZ"}]},
            {"item_code": ITEM_CODE, "form": FORM, "extra": 1},
        ],
    )
    async def test_malformed_body_is_422_and_changes_nothing(
        self,
        client: httpx.AsyncClient,
        accounts: Accounts,
        auth: Any,
        item: ItemPublished,
        sessionmaker: Any,
        body: dict[str, Any],
    ) -> None:
        r = await client.post(URL, json=body, headers=auth(accounts.zhangsan))
        assert r.status_code == 422
        assert await _table_counts(sessionmaker) == (0, 0, 0)

    async def test_material_code_not_in_list_is_422(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        headers = auth(accounts.zhangsan)
        sha = await upload(client, headers)
        r = await client.post(
            URL, json=_body(sha, materials=[{"material_code": "M99", "sha256": sha}]), headers=headers
        )
        assert r.status_code == 422
        assert r.json()["code"] == "material_unknown"
        assert await _table_counts(sessionmaker) == (0, 0, 0)

    async def test_material_uploaded_by_someone_else_is_422(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        sha = await upload(client, auth(accounts.lisi))
        r = await client.post(URL, json=_body(sha), headers=auth(accounts.zhangsan))
        assert r.status_code == 422
        assert r.json()["code"] == "material_not_uploaded"
        assert r.json()["sha256s"] == [sha]
        assert await _table_counts(sessionmaker) == (0, 0, 0)

    async def test_media_type_not_allowed_for_material_is_422(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        headers = auth(accounts.zhangsan)
        sha = await upload(client, headers, PNG)
        r = await client.post(URL, json=_body(sha), headers=headers)
        assert r.status_code == 422
        assert r.json()["code"] == "material_media_type_not_allowed"
        assert await _table_counts(sessionmaker) == (0, 0, 0)

    async def test_file_over_material_size_limit_is_422(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        headers = auth(accounts.zhangsan)
        sha = await upload(client, headers)
        r = await client.post(
            URL, json=_body(sha, materials=[{"material_code": "M03", "sha256": sha}]), headers=headers
        )
        assert r.status_code == 422
        assert r.json()["code"] == "material_too_large"

    async def test_staff_may_not_apply(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished
    ) -> None:
        r = await client.post(URL, json=_body("", materials=[]), headers=auth(accounts.chuangkou))
        assert r.status_code == 403


async def _submit(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    r = await client.post(URL, json=_body("", materials=[]), headers=headers)
    assert r.status_code == 202
    return str(r.json()["application_id"])


class TestListApplications:
    async def test_lists_only_own_newest_first_and_filters_by_status(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        mine = [await _submit(client, auth(accounts.zhangsan)) for _ in range(3)]
        await _submit(client, auth(accounts.lisi))
        async with session_scope(sessionmaker) as session:
            app = await session.get(Application, uuid.UUID(mine[0]))
            assert app is not None
            app.status, app.case_no = "accepted", "530428202611230000017"
        r = await client.get(URL, headers=auth(accounts.zhangsan))
        assert r.status_code == 200
        body = r.json()
        assert [a["application_id"] for a in body["items"]] == list(reversed(mine))
        assert body["pagination"] == {"total_count": 3, "max_page": 1}
        r = await client.get(URL, params={"status": "accepted"}, headers=auth(accounts.zhangsan))
        [only] = r.json()["items"]
        assert (only["application_id"], only["case_no"], only["status_text"]) == (
            mine[0],
            "530428202611230000017",
            "已受理",
        )

    async def test_unknown_status_filter_is_422(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any
    ) -> None:
        r = await client.get(URL, params={"status": "nonsense"}, headers=auth(accounts.zhangsan))
        assert r.status_code == 422


class TestGetApplication:
    async def test_owner_sees_detail(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished
    ) -> None:
        app_id = await _submit(client, auth(accounts.zhangsan))
        r = await client.get(f"{URL}/{app_id}", headers=auth(accounts.zhangsan))
        assert r.status_code == 200
        assert r.json()["form"] == FORM
        assert r.json()["status_text"] == "已提交"
        assert r.json()["links"]["case"] is None

    async def test_another_users_application_is_404(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished
    ) -> None:
        app_id = await _submit(client, auth(accounts.zhangsan))
        r = await client.get(f"{URL}/{app_id}", headers=auth(accounts.lisi))
        assert r.status_code == 404
        assert r.json()["code"] == "application_not_found"

    async def test_malformed_id_is_422(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any
    ) -> None:
        r = await client.get(f"{URL}/not-a-uuid", headers=auth(accounts.zhangsan))
        assert r.status_code == 422
