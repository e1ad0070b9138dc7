"""Input limits and validation in management (ADR 0012): clean text, form schemas, body size, supplements."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from management_factories import ACCEPTOR, ADMIN, auth, count, load_case, outbox, supplement
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.db import session_scope
from yiwang_management.case.models import CaseStep
from yiwang_management.demo_items import demo_items
from yiwang_management.item.models import Item

PUBLISHED = "yiwang.management.item.published.v1"


async def snapshot(sessionmaker: async_sessionmaker[AsyncSession], case_no: str) -> tuple[Any, ...]:
    case = await load_case(sessionmaker, case_no)
    return (
        case.status,
        case.missing_materials,
        case.materials,
        await count(sessionmaker, CaseStep),
        len(await outbox(sessionmaker)),
    )


def _raw(template: bytes) -> dict[str, Any]:
    return {"content": template, "headers": {"content-type": "application/json"} | auth(ACCEPTOR)}


class TestCaseText:
    @pytest.mark.parametrize(
        "raw",
        [
            b'{"reason": "\\u0000"}',
            b'{"reason": "\\u0000\\u0000 "}',
            b'{"reason": "\\ud800"}',
            b'{"reason": "\\udc00abc"}',
            b'{"reason": "\\u001b[2J"}',
            b'{"reason": "ok\\u007f"}',
            b'{"reason": "\\ufffe"}',
        ],
    )
    async def test_reject_reason_with_forbidden_characters_is_422_and_changes_nothing(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        case_no: str,
        raw: bytes,
    ) -> None:
        before = await snapshot(sessionmaker, case_no)
        response = await client.post(f"/cases/{case_no}/reject", **_raw(raw))
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "validation_failed"
        assert response.json()["errors"][0]["pointer"] == "/body/reason"
        assert await snapshot(sessionmaker, case_no) == before
        assert (await load_case(sessionmaker, case_no)).status == "pending_acceptance"

    async def test_multi_line_reason_is_fine(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], case_no: str
    ) -> None:
        response = await client.post(
            f"/cases/{case_no}/reject", **_raw(b'{"reason": "\\u7406\\u7531\\n\\t\\u4e8c"}')
        )
        assert response.status_code == 200, response.text
        assert response.json()["rejection"]["reason"] == "理由\n\t二"

    @pytest.mark.parametrize(
        ("path", "raw"),
        [
            ("accept", b'{"opinion": "\\ud83d"}'),
            ("accept", b'{"opinion": "a\\u0000"}'),
            ("supplement-notice", b'{"note": "\\udfff"}'),
            ("supplement-notice", b'{"missing_materials": [{"code": "M03", "reason": "\\u0007"}]}'),
            ("supplement-notice", b'{"missing_materials": [{"code": "M\\ud800", "reason": "x"}]}'),
        ],
    )
    async def test_other_staff_text_with_forbidden_characters_is_422(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        incomplete_case_no: str,
        path: str,
        raw: bytes,
    ) -> None:
        before = await snapshot(sessionmaker, incomplete_case_no)
        response = await client.post(f"/cases/{incomplete_case_no}/{path}", **_raw(raw))
        assert response.status_code == 422, response.text
        assert await snapshot(sessionmaker, incomplete_case_no) == before

    async def test_oversized_body_is_413_and_changes_nothing(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], case_no: str
    ) -> None:
        before = await snapshot(sessionmaker, case_no)
        body = orjson.dumps({"reason": "理" * 400_000})
        response = await client.post(f"/cases/{case_no}/reject", **_raw(body))
        assert (response.status_code, response.json()["code"]) == (413, "payload_too_large")
        assert await snapshot(sessionmaker, case_no) == before

    async def test_undecodable_body_is_422(self, client: httpx.AsyncClient, case_no: str) -> None:
        response = await client.post(f"/cases/{case_no}/reject", **_raw(b'{"reason": "\xff"}'))
        assert (response.status_code, response.json()["code"]) == (422, "body_undecodable")


class TestItemValidation:
    def body(self, **changes: Any) -> dict[str, Any]:
        return (
            demo_items()[0].model_copy(update={"version": 2}).model_dump(mode="json", exclude={"item_code"})
            | changes
        )

    @pytest.mark.parametrize(
        "form_schema",
        [
            {"type": "object", "properties": {"工程名称": {"type": "strin"}}},
            {"type": "object", "properties": {"电话": {"type": "string", "pattern": "(unclosed"}}},
            {"type": "object", "required": "工程名称"},
            {"type": "object", "properties": {"建设规模": {"minimum": "zero"}}},
            {"type": "array"},
        ],
    )
    async def test_invalid_form_schema_is_422_and_not_stored(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        item: str,
        form_schema: dict[str, Any],
    ) -> None:
        response = await client.put(
            f"/items/{item}", json=self.body(form_schema=form_schema), headers=auth(ADMIN)
        )
        assert response.status_code == 422, response.text
        assert "form_schema" in response.json()["detail"]
        async with session_scope(sessionmaker) as session:
            stored = await session.get(Item, item)
            assert stored is not None and stored.version == 1
        assert await outbox(sessionmaker, PUBLISHED) == []

    @pytest.mark.parametrize(
        "changes",
        [
            {"name": "建筑\u0000工程"},
            {"guide": {"办理地点": "\u001b[31m"}},
            {"conditions": ["(1)\ufffe"]},
            {"name": "x" * 201},
            {"legal_basis": ["依据"] * 101},
        ],
    )
    async def test_item_text_and_lists_are_checked(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        item: str,
        changes: Any,
    ) -> None:
        response = await client.put(f"/items/{item}", json=self.body(**changes), headers=auth(ADMIN))
        assert response.status_code == 422, response.text
        assert await outbox(sessionmaker, PUBLISHED) == []

    async def test_item_with_a_lone_surrogate_in_its_materials_is_422(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], item: str
    ) -> None:
        raw = orjson.dumps(self.body()).replace("建筑工程施工许可证申请表".encode(), b"\\ud800")
        headers = {"content-type": "application/json"} | auth(ADMIN)
        response = await client.put(f"/items/{item}", content=raw, headers=headers)
        assert response.status_code == 422, response.text
        assert await outbox(sessionmaker, PUBLISHED) == []


class TestSupplementScope:
    async def test_supplement_of_a_material_the_notice_did_not_ask_for_is_refused_with_a_record(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: Any,  # CaseEventHandlers; typed loosely so the test does not pin its module
        incomplete_case_no: str,
    ) -> None:
        r = await client.post(
            f"/cases/{incomplete_case_no}/supplement-notice", json={}, headers=auth(ACCEPTOR)
        )
        assert r.status_code == 200, r.text
        before = await load_case(sessionmaker, incomplete_case_no)
        # M01 was handed in with the application; the notice asks for M03 and M08 only.
        await supplement(sessionmaker, handlers, incomplete_case_no, ["M01", "M03", "M08"])
        after = await load_case(sessionmaker, incomplete_case_no)
        assert (after.status, after.materials, after.missing_materials) == (
            "awaiting_supplement",
            before.materials,
            before.missing_materials,
        )
        async with session_scope(sessionmaker) as session:
            keys = (await session.execute(select(CaseStep.step_key, CaseStep.opinion))).all()
        refused = [opinion for key, opinion in keys if key == "supplement_refused"]
        assert len(refused) == 1 and "M01" in refused[0]

    async def test_supplement_of_what_was_asked_still_works(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: Any,  # CaseEventHandlers; typed loosely so the test does not pin its module
        incomplete_case_no: str,
    ) -> None:
        r = await client.post(
            f"/cases/{incomplete_case_no}/supplement-notice", json={}, headers=auth(ACCEPTOR)
        )
        assert r.status_code == 200, r.text
        await supplement(sessionmaker, handlers, incomplete_case_no, ["M03", "M08"])
        assert (await load_case(sessionmaker, incomplete_case_no)).status == "pending_acceptance"


class TestQueryAndPath:
    @pytest.mark.parametrize(
        "url",
        [
            "/items?q=%00",
            "/items?q=%1B",
            "/items?q=%ED%A0%80",
            "/cases?item_code=%00",
            "/cases/%00",
            "/cases/%00/reject",
            "/items/%00",
        ],
    )
    async def test_nul_and_controls_in_query_or_path_are_4xx_never_5xx(
        self, client: httpx.AsyncClient, url: str
    ) -> None:
        if url.endswith("/reject"):
            r = await client.post(url, json={"reason": "理由"}, headers=auth(ACCEPTOR))
        else:
            r = await client.get(url, headers=auth(ACCEPTOR))
        assert r.status_code < 500, r.text
        assert r.status_code == 200 or r.headers["content-type"].startswith("application/problem+json")

    async def test_a_plain_query_still_works(self, client: httpx.AsyncClient, item: str) -> None:
        r = await client.get("/items", params={"q": " 施工许可 "})
        assert [i["item_code"] for i in r.json()["items"]] == [item]
