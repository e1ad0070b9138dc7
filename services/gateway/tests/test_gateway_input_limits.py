"""Input limits and validation (ADR 0012): body size, form schema, clean text, the event that results."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from gateway_support import FORM, ITEM_CODE, Accounts, count, envelope, item_published, make_settings
from sqlalchemy import select

from yiwang_common.contracts.common import Applicant, MaterialRef
from yiwang_common.db import session_scope
from yiwang_common.events.outbox import serialize
from yiwang_common.forms import FORM_MAX_BYTES, FORM_MAX_STRING
from yiwang_gateway.application.events import submitted_event
from yiwang_gateway.application.models import Application
from yiwang_gateway.catalogue.events import on_item_published
from yiwang_gateway.db import messaging
from yiwang_gateway.main import create_app
from yiwang_gateway.material.client import TRANSPORT_STATE_KEY
from yiwang_gateway.material.schemas import MAX_MATERIALS

APPS = "/api/v1/applications"
#: NATS server default ``max_payload``; the deployment does not raise it.
NATS_MAX_PAYLOAD = 1024 * 1024
STRICT_CODE = "11530428015176456L2000109004000"
STRICT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["工程名称", "建设规模", "计划开工日期"],
    "properties": {
        "工程名称": {"type": "string", "minLength": 1, "maxLength": 200, "title": "工程名称"},
        "建设规模": {"type": "number", "exclusiveMinimum": 0, "maximum": 10_000_000, "title": "建设规模"},
        "层数": {"type": "integer", "minimum": 1, "maximum": 200, "title": "层数"},
        "结构类型": {"type": "string", "enum": ["框架", "砖混", "钢结构"], "title": "结构类型"},
        "联系电话": {"type": "string", "pattern": "^1[3-9][0-9]{9}$", "title": "联系电话"},
        "计划开工日期": {"type": "string", "format": "date", "title": "计划开工日期"},
        "备注": {"type": "string", "maxLength": 2000, "title": "备注"},
    },
}
STRICT_FORM: dict[str, Any] = {
    "工程名称": "元江县第一中学教学楼",
    "建设规模": 5200,
    "层数": 5,
    "结构类型": "框架",
    "联系电话": "13800000001",
    "计划开工日期": "2027-02-28",
}


@pytest.fixture
async def strict_item(sessionmaker: Any, item: Any) -> str:
    data = item_published(item_code=STRICT_CODE).model_copy(update={"form_schema": STRICT_SCHEMA})
    async with session_scope(sessionmaker) as session:
        await on_item_published(session, envelope(data), data)
    return STRICT_CODE


async def _nothing_stored(sessionmaker: Any) -> None:
    assert await count(sessionmaker, "application") == 0
    assert await count(sessionmaker, "outbox") == 0


class TestBodyLimit:
    async def test_declared_oversized_body_is_413_and_stores_nothing(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: Any, sessionmaker: Any
    ) -> None:
        # The body is valid JSON that the form checks would also refuse; the size check comes first.
        body = orjson.dumps({"item_code": ITEM_CODE, "form": FORM | {"note": "x" * 5_000_000}})
        headers = auth(accounts.zhangsan) | {"content-type": "application/json"}
        r = await client.post(APPS, content=body, headers=headers)
        assert r.status_code == 413
        assert r.headers["content-type"].startswith("application/problem+json")
        assert (r.json()["code"], r.json()["status"]) == ("payload_too_large", 413)
        await _nothing_stored(sessionmaker)

    async def test_chunked_oversized_body_is_413_and_stores_nothing(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: Any, sessionmaker: Any
    ) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"item_code": "' + ITEM_CODE.encode() + b'", "form": {"project_name": "a", "note": "'
            for _ in range(200):
                yield b"x" * 8192
            yield b'"}}'

        headers = auth(accounts.zhangsan) | {"content-type": "application/json"}
        r = await client.post(APPS, content=chunks(), headers=headers)
        assert "content-length" not in {k.lower() for k in r.request.headers}
        assert (r.status_code, r.json()["code"]) == (413, "payload_too_large")
        await _nothing_stored(sessionmaker)

    async def test_public_login_has_the_limit_too(self, client: httpx.AsyncClient) -> None:
        r = await client.post(
            "/api/v1/auth/token",
            content=orjson.dumps({"username": "zhangsan", "password": "x" * 1_000_000}),
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 413

    async def test_openapi_documents_413_and_422_on_body_routes(self, client: httpx.AsyncClient) -> None:
        paths = (await client.get("/openapi.json")).json()["paths"]
        for path, method in [(APPS, "post"), ("/api/v1/cases/{case_no}/supplements", "post")]:
            assert {"413", "422"} <= set(paths[path][method]["responses"]), path


class TestFormSchema:
    async def test_valid_form_is_accepted(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, strict_item: str
    ) -> None:
        r = await client.post(
            APPS, json={"item_code": strict_item, "form": STRICT_FORM}, headers=auth(accounts.zhangsan)
        )
        assert r.status_code == 202, r.text

    @pytest.mark.parametrize(
        ("change", "pointer"),
        [
            ({"建设规模": -5}, "/建设规模"),
            ({"建设规模": 0}, "/建设规模"),
            ({"建设规模": 10_000_001}, "/建设规模"),
            ({"层数": 0}, "/层数"),
            ({"层数": 2.5}, "/层数"),
            ({"计划开工日期": "2027-02-30"}, "/计划开工日期"),
            ({"计划开工日期": "2027-2-3"}, "/计划开工日期"),
            ({"工程名称": "x" * 201}, "/工程名称"),
            ({"工程名称": "x" * 100_000}, "/工程名称"),
            ({"工程名称": "   "}, "/工程名称"),
            ({"结构类型": "木结构"}, "/结构类型"),
            ({"联系电话": "12345"}, "/联系电话"),
            ({"未知字段": "x"}, "/未知字段"),
            ({"工程名称": None}, "/工程名称"),
        ],
    )
    async def test_every_keyword_is_enforced(
        self,
        client: httpx.AsyncClient,
        accounts: Accounts,
        auth: Any,
        strict_item: str,
        sessionmaker: Any,
        change: dict[str, Any],
        pointer: str,
    ) -> None:
        form = STRICT_FORM | change
        r = await client.post(
            APPS, json={"item_code": strict_item, "form": form}, headers=auth(accounts.zhangsan)
        )
        assert (r.status_code, r.json()["code"]) == (422, "form_invalid"), r.text
        fields = r.json()["fields"]
        assert pointer in [f["pointer"] for f in fields]
        assert all(f["error"] and not f["error"].isascii() for f in fields)  # zh-CN messages
        await _nothing_stored(sessionmaker)

    async def test_missing_required_fields_are_each_listed(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, strict_item: str
    ) -> None:
        form = {"层数": 3}
        r = await client.post(
            APPS, json={"item_code": strict_item, "form": form}, headers=auth(accounts.zhangsan)
        )
        assert r.status_code == 422
        assert sorted(f["pointer"] for f in r.json()["fields"]) == ["/工程名称", "/建设规模", "/计划开工日期"]


class TestFormLimits:
    async def test_form_over_the_size_cap_is_422(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: Any, sessionmaker: Any
    ) -> None:
        # Each field is short, so only the whole-form limit can catch it.
        form = FORM | {f"f{i}": "x" * 1000 for i in range(70)}
        r = await client.post(
            APPS, json={"item_code": ITEM_CODE, "form": form}, headers=auth(accounts.zhangsan)
        )
        assert (r.status_code, r.json()["code"]) == (422, "form_invalid")
        await _nothing_stored(sessionmaker)

    async def test_one_field_over_the_string_cap_is_422_even_without_max_length(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: Any, sessionmaker: Any
    ) -> None:
        form = FORM | {"project_name": "x" * (FORM_MAX_STRING + 1)}
        r = await client.post(
            APPS, json={"item_code": ITEM_CODE, "form": form}, headers=auth(accounts.zhangsan)
        )
        assert (r.status_code, r.json()["fields"][0]["pointer"]) == (422, "/project_name")
        await _nothing_stored(sessionmaker)

    async def test_too_many_materials_is_422(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: Any, sessionmaker: Any
    ) -> None:
        materials = [{"material_code": "M01", "sha256": f"{i:064x}"} for i in range(MAX_MATERIALS + 1)]
        body = {"item_code": ITEM_CODE, "form": FORM, "materials": materials}
        r = await client.post(APPS, json=body, headers=auth(accounts.zhangsan))
        assert (r.status_code, r.json()["code"]) == (422, "validation_failed")
        assert r.json()["errors"][0]["pointer"] == "/body/materials"
        await _nothing_stored(sessionmaker)

    async def test_over_long_item_code_is_422(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: Any
    ) -> None:
        r = await client.post(
            APPS, json={"item_code": "1" * 65, "form": FORM}, headers=auth(accounts.zhangsan)
        )
        assert r.status_code == 422


class TestText:
    @pytest.mark.parametrize(
        "raw",
        [
            # Escapes as a client would send them; json.dumps would refuse to write a lone surrogate.
            b'{"item_code": "%s", "form": {"project_name": "\\ud800", "address": "b", "area_m2": 1}}',
            b'{"item_code": "%s", "form": {"project_name": "a", "address": "b", "area_m2": 1, "\\udfff": 1}}',
            b'{"item_code": "%s", "form": {"project_name": "a\\u001b[31m", "address": "b", "area_m2": 1}}',
            b'{"item_code": "%s", "form": {"project_name": "a\\u0085", "address": "b", "area_m2": 1}}',
            b'{"item_code": "%s", "form": {"project_name": "a\\uffff", "address": "b", "area_m2": 1}}',
            b'{"item_code": "%s", "form": {"project_name": ["a", {"x": "\\ud83d"}], "address": "b", "area_m2": 1}}',
            b'{"item_code": "%s\\ud800", "form": {"project_name": "a", "address": "b", "area_m2": 1}}',
        ],
    )
    async def test_control_characters_and_lone_surrogates_are_422_and_store_nothing(
        self,
        client: httpx.AsyncClient,
        accounts: Accounts,
        auth: Any,
        item: Any,
        sessionmaker: Any,
        raw: bytes,
    ) -> None:
        headers = auth(accounts.zhangsan) | {"content-type": "application/json"}
        r = await client.post(APPS, content=raw % ITEM_CODE.encode(), headers=headers)
        assert r.status_code == 422, r.text
        await _nothing_stored(sessionmaker)

    async def test_lone_surrogate_in_a_material_code_is_422(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: Any, sessionmaker: Any
    ) -> None:
        raw = (
            b'{"item_code": "%s", "form": {"project_name": "a", "address": "b", "area_m2": 1},'
            b' "materials": [{"material_code": "M\\ud800", "sha256": "%s"}]}'
        ) % (ITEM_CODE.encode(), b"a" * 64)
        headers = auth(accounts.zhangsan) | {"content-type": "application/json"}
        r = await client.post(APPS, content=raw, headers=headers)
        assert (r.status_code, r.json()["code"]) == (422, "validation_failed")
        assert r.json()["errors"][0]["pointer"] == "/body/materials/0/material_code"
        await _nothing_stored(sessionmaker)

    async def test_line_breaks_and_a_valid_surrogate_pair_are_fine(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: Any, sessionmaker: Any
    ) -> None:
        raw = b'{"item_code": "%s", "form": {"project_name": "a\\n\\ud83d\\ude00", "address": "b", "area_m2": 1}}'
        headers = auth(accounts.zhangsan) | {"content-type": "application/json"}
        r = await client.post(APPS, content=raw % ITEM_CODE.encode(), headers=headers)
        assert r.status_code == 202, r.text
        async with session_scope(sessionmaker) as session:
            stored = (await session.execute(select(Application.form))).scalar_one()
        assert stored["project_name"] == "a\n\U0001f600"

    @pytest.mark.parametrize("username", [b"\\ud800", b"zhang\\u0007san"])
    async def test_login_with_unstorable_text_is_422(
        self, client: httpx.AsyncClient, username: bytes
    ) -> None:
        raw = b'{"username": "%s", "password": "demo123"}' % username
        r = await client.post("/api/v1/auth/token", content=raw, headers={"content-type": "application/json"})
        assert r.status_code == 422


class TestUndecodableBody:
    @pytest.mark.parametrize("raw", [b'{"item_code": "\xff\xfe"}', b'{"item_code": ', b"\xc3("])
    async def test_undecodable_body_is_a_documented_422(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, raw: bytes
    ) -> None:
        headers = auth(accounts.zhangsan) | {"content-type": "application/json"}
        r = await client.post(APPS, content=raw, headers=headers)
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("application/problem+json")
        assert (r.json()["code"], r.json()["status"]) == ("body_undecodable", 422)


class TestEventSize:
    def test_the_maximal_valid_application_fits_the_bus_with_room(self) -> None:
        # Every part at its limit, with 4-byte UTF-8 where text is free: form at the byte cap,
        # the most materials, each with the longest names and filename the schemas allow.
        wide = "\U00020000"  # 𠀀, four bytes in UTF-8
        form: dict[str, Any] = {}
        while len(orjson.dumps(form)) < FORM_MAX_BYTES - 2000:
            form[f"f{len(form)}"] = wide * 200
        assert len(orjson.dumps(form)) <= FORM_MAX_BYTES
        refs = [
            MaterialRef(
                material_code=wide * 64,
                name=wide * 200,
                sha256=f"{i:064x}",
                size=2**62,
                media_type="a" * 100,
                filename=wide * 255,
            )
            for i in range(MAX_MATERIALS)
        ]
        applicant = Applicant(
            account_id=str(uuid.uuid4()),
            name=wide * 200,
            kind="legal_person",
            id_type="001",
            id_number=wide * 64,
            phone=wide * 64,
        )
        app = Application(id=uuid.uuid4(), item_code=wide * 64, form=form, submitted_at=datetime.now(UTC))
        size = len(serialize(submitted_event(app, applicant, refs, source="urn:yiwang:530428:gateway")))
        assert size < NATS_MAX_PAYLOAD // 2, size

    async def test_a_form_at_the_cap_is_accepted_and_its_event_fits(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: Any, sessionmaker: Any
    ) -> None:
        form = dict(FORM)
        i = 0
        while len(orjson.dumps(form | {f"f{i}": "中" * 1000})) <= FORM_MAX_BYTES:
            form[f"f{i}"] = "中" * 1000
            i += 1
        r = await client.post(
            APPS, json={"item_code": ITEM_CODE, "form": form}, headers=auth(accounts.zhangsan)
        )
        assert r.status_code == 202, r.text
        async with session_scope(sessionmaker) as session:
            payload = (await session.execute(select(messaging.outbox.c.payload))).scalar_one()
        assert FORM_MAX_BYTES - 3000 < len(payload) < NATS_MAX_PAYLOAD // 4


class TestUndecodableQueryAndPath:
    @pytest.mark.parametrize(
        "url",
        [
            "/api/v1/items?q=%ED%A0%80",
            "/api/v1/items?q=%FF",
            "/api/v1/items/%ED%A0%80",
            "/api/v1/items?q=%1B",
            "/api/v1/cases/%ED%A0%80",
        ],
    )
    async def test_never_a_5xx(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, url: str
    ) -> None:
        r = await client.get(url, headers=auth(accounts.zhangsan))
        assert r.status_code < 500, r.text


class TestUploadLimit:
    async def test_streamed_upload_over_the_limit_is_413_and_records_nothing(
        self, database_url: str, fake_datasharing: Any, accounts: Accounts, auth: Any, sessionmaker: Any
    ) -> None:
        # A gateway of its own with a small cap: the proxy's stream is cut where the cap is passed.
        application = create_app(make_settings(database_url, max_upload_bytes=4096))
        setattr(application.state, TRANSPORT_STATE_KEY, httpx.MockTransport(fake_datasharing))

        async def chunks() -> AsyncIterator[bytes]:
            yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-1.7\n'
            for _ in range(10):
                yield b"x" * 1024
            yield b"\r\n--b--\r\n"

        async with (
            application.router.lifespan_context(application),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://test") as c,
        ):
            headers = auth(accounts.zhangsan) | {"content-type": "multipart/form-data; boundary=b"}
            r = await c.post("/api/v1/materials", content=chunks(), headers=headers)
        assert (r.status_code, r.json()["code"]) == (413, "payload_too_large")
        assert await count(sessionmaker, "uploaded_material") == 0
