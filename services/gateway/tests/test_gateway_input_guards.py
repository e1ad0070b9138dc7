"""Hostile input: whatever a client sends gives a 4xx problem and stores nothing, never a 5xx."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from gateway_support import FORM, ITEM_CODE, Accounts, count

APPS = "/api/v1/applications"


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"x": value}
    return value


class TestNulCharacters:
    @pytest.mark.parametrize(
        ("method", "path", "kwargs"),
        [
            ("POST", "/api/v1/auth/token", {"json": {"username": "a\u0000", "password": "x"}}),
            ("GET", "/api/v1/items", {"params": {"q": "a\x00"}}),
            ("GET", "/api/v1/items/a%00", {}),
        ],
    )
    async def test_public_routes_refuse_nul(
        self, client: httpx.AsyncClient, method: str, path: str, kwargs: Any
    ) -> None:
        r = await client.request(method, path, **kwargs)
        assert r.status_code == 422
        assert r.json()["code"] == "unstorable_input"

    @pytest.mark.parametrize(
        "body",
        [
            {"item_code": ITEM_CODE, "form": FORM | {"note": "a\u0000"}},
            {"item_code": ITEM_CODE, "form": FORM | {"k\u0000": 1}},
            {"item_code": "x\u0000", "form": FORM},
        ],
    )
    async def test_application_with_nul_is_refused_and_stores_nothing(
        self,
        client: httpx.AsyncClient,
        accounts: Accounts,
        auth: Any,
        item: Any,
        sessionmaker: Any,
        body: Any,
    ) -> None:
        r = await client.post(APPS, json=body, headers=auth(accounts.zhangsan))
        assert r.status_code == 422
        assert await count(sessionmaker, "application") == 0

    async def test_case_path_with_nul_is_refused(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any
    ) -> None:
        r = await client.get("/api/v1/cases/a%00", headers=auth(accounts.zhangsan))
        assert r.status_code == 422


class TestUnstorableFormValues:
    @pytest.mark.parametrize(
        ("raw_area", "detail"),
        [(b"NaN", "数值必须是有限数"), (b"Infinity", "数值必须是有限数"), (b"1" + b"0" * 30, "整数超出范围")],
    )
    async def test_non_finite_or_huge_numbers_are_422(
        self,
        client: httpx.AsyncClient,
        accounts: Accounts,
        auth: Any,
        item: Any,
        sessionmaker: Any,
        raw_area: bytes,
        detail: str,
    ) -> None:
        body = b'{"item_code": "%s", "form": {"project_name": "a", "address": "b", "area_m2": %s}}' % (
            ITEM_CODE.encode(),
            raw_area,
        )
        headers = auth(accounts.zhangsan) | {"content-type": "application/json"}
        r = await client.post(APPS, content=body, headers=headers)
        problem = r.json()
        assert (r.status_code, problem["code"]) == (422, "form_invalid")
        assert (problem["fields"][0]["pointer"], problem["fields"][0]["error"]) == ("/area_m2", detail)
        assert await count(sessionmaker, "application") == 0

    async def test_deeply_nested_form_is_422(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: Any, sessionmaker: Any
    ) -> None:
        r = await client.post(
            APPS,
            json={"item_code": ITEM_CODE, "form": FORM | {"deep": _nested(40)}},
            headers=auth(accounts.zhangsan),
        )
        assert r.status_code == 422
        assert await count(sessionmaker, "outbox") == 0

    async def test_non_ascii_idempotency_key_is_422(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: Any
    ) -> None:
        headers = auth(accounts.zhangsan) | {"Idempotency-Key": "a b"}
        r = await client.post(APPS, json={"item_code": ITEM_CODE, "form": FORM}, headers=headers)
        assert r.status_code == 422

    async def test_malformed_json_is_422(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any
    ) -> None:
        headers = auth(accounts.zhangsan) | {"content-type": "application/json"}
        r = await client.post(APPS, content=b'{"item_code": ', headers=headers)
        assert r.status_code == 422
