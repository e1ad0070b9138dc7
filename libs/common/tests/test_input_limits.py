"""Body limits, validated text and form checks (ADR 0012)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from yiwang_common.forms import FORM_MAX_BYTES, form_errors, schema_errors, value_problems
from yiwang_common.http.middleware import BodyLimitMiddleware, RequestContextMiddleware, document_body_limit
from yiwang_common.http.problems import install_problem_handlers
from yiwang_common.text import (
    Code,
    Filename,
    MultilineText,
    Name,
    Secret,
    Text,
    clean_filename,
    json_text_problem,
)

LIMIT = 1024


class Note(BaseModel):
    text: Text


def limited_app(stored: list[Any]) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(BodyLimitMiddleware, default=LIMIT, routes=[("POST", "/uploads", 10 * LIMIT)])
    document_body_limit(app)
    app.add_middleware(RequestContextMiddleware)

    @app.post("/notes")
    async def note(body: Note) -> dict[str, str]:
        stored.append(body.text)
        return {"ok": "yes"}

    @app.post("/uploads")
    async def upload(request: Request) -> dict[str, int]:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        stored.append(size)
        return {"size": size}

    return app


@pytest.fixture
def stored() -> list[Any]:
    return []


@pytest.fixture
async def client(stored: list[Any]) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=limited_app(stored))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def _chunks(total: int, size: int = 100) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


class TestBodyLimit:
    async def test_declared_length_over_the_limit_is_413_problem(
        self, client: httpx.AsyncClient, stored: list[Any]
    ) -> None:
        r = await client.post("/notes", json={"text": "x" * 2 * LIMIT})
        assert r.status_code == 413
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["x-request-id"]
        body = r.json()
        assert (body["status"], body["code"], body["max_bytes"]) == (413, "payload_too_large", LIMIT)
        assert stored == []

    async def test_chunked_json_over_the_limit_is_413(
        self, client: httpx.AsyncClient, stored: list[Any]
    ) -> None:
        r = await client.post(
            "/notes", content=_chunks(2 * LIMIT), headers={"content-type": "application/json"}
        )
        assert (r.status_code, r.json()["code"]) == (413, "payload_too_large")
        assert stored == []

    async def test_a_lying_content_length_is_still_counted(self, stored: list[Any]) -> None:
        app = limited_app(stored)
        messages = [{"type": "http.request", "body": b"x" * 600, "more_body": True}] * 3
        sent: list[Any] = []

        async def receive() -> Any:
            return messages.pop(0)

        async def send(message: Any) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": "POST",
            "path": "/notes",
            "raw_path": b"/notes",
            "query_string": b"",
            "headers": [(b"content-length", b"10"), (b"content-type", b"application/json")],
        }
        await app(scope, receive, send)
        assert sent[0]["status"] == 413
        assert stored == []

    async def test_streamed_upload_route_has_its_own_larger_limit(
        self, client: httpx.AsyncClient, stored: list[Any]
    ) -> None:
        ok = await client.post("/uploads", content=_chunks(5 * LIMIT))
        assert (ok.status_code, ok.json()) == (200, {"size": 5 * LIMIT})
        too_big = await client.post("/uploads", content=_chunks(11 * LIMIT))
        assert (too_big.status_code, too_big.json()["code"]) == (413, "payload_too_large")
        assert stored == [5 * LIMIT]

    async def test_small_bodies_pass(self, client: httpx.AsyncClient, stored: list[Any]) -> None:
        r = await client.post("/notes", json={"text": " 你好 "})
        assert r.status_code == 200
        assert stored == ["你好"]

    async def test_openapi_documents_413_on_body_routes_only(self, client: httpx.AsyncClient) -> None:
        paths = (await client.get("/openapi.json")).json()["paths"]
        assert "413" in paths["/notes"]["post"]["responses"]

    @pytest.mark.parametrize("raw", [b'{"text": "\xff"}', b'{"text": ', b"\xc3("])
    async def test_undecodable_body_is_422_problem(self, client: httpx.AsyncClient, raw: bytes) -> None:
        r = await client.post("/notes", content=raw, headers={"content-type": "application/json"})
        assert r.status_code == 422
        assert (r.json()["code"], r.json()["status"]) == ("body_undecodable", 422)

    async def test_validation_errors_carry_pointer_and_zh_message(self, client: httpx.AsyncClient) -> None:
        r = await client.post(
            "/notes", content=b'{"text": "\\ud800"}', headers={"content-type": "application/json"}
        )
        assert r.status_code == 422
        error = r.json()["errors"][0]
        assert error["pointer"] == "/body/text"
        assert error["msg"] == "包含不允许的孤立代理项 U+D800"


class TestText:
    @pytest.mark.parametrize(
        "value",
        ["\x00", "a\x00", "\ud800", "a\udfff", "\x1b[0m", "\x7f", "\x85", "\ufdd0", "\U0010ffff", "a\nb"],
    )
    @pytest.mark.parametrize("kind", [Text, Name, Code, Filename, Secret])
    def test_one_line_kinds_refuse_forbidden_characters(self, kind: Any, value: str) -> None:
        with pytest.raises(ValidationError) as info:
            TypeAdapter(kind).validate_python(value)
        assert info.value.errors()[0]["type"] == "text_forbidden_character"

    @pytest.mark.parametrize("value", ["\x00", "\ud800", "\x0b", "\x1b"])
    def test_multiline_refuses_the_rest(self, value: str) -> None:
        with pytest.raises(ValidationError):
            TypeAdapter(MultilineText).validate_python("理由" + value)

    def test_multiline_keeps_tabs_and_line_breaks_and_trims(self) -> None:
        assert TypeAdapter(MultilineText).validate_python("  一、\t甲\r\n二、乙 ") == "一、\t甲\r\n二、乙"

    def test_blank_and_too_long_are_refused_and_nfc_applies(self) -> None:
        with pytest.raises(ValidationError):
            TypeAdapter(Text).validate_python("   ")
        with pytest.raises(ValidationError):
            TypeAdapter(Annotated[Text, Field(max_length=3)]).validate_python("abcd")
        assert TypeAdapter(Name).validate_python("e\u0301") == "\u00e9"

    def test_filename_loses_bidi_controls(self) -> None:
        assert TypeAdapter(Filename).validate_python("证明\u202efdp.exe") == "证明fdp.exe"
        assert clean_filename("C:\\x\\a\u2067b\u2069\u061c\u200e.pdf") == "ab.pdf"
        with pytest.raises(ValueError, match="控制字符"):
            clean_filename("a\x00.pdf")

    def test_secret_is_not_trimmed(self) -> None:
        assert TypeAdapter(Secret).validate_python(" pw ") == " pw "

    def test_json_text_problem_names_the_pointer(self) -> None:
        assert json_text_problem({"a": [1, {"b/c": "x\ud800"}]}) == (
            "/a/1/b~1c",
            "包含不允许的孤立代理项 U+D800",
        )
        assert json_text_problem({"a": "多\n行"}) is None
        assert json_text_problem({"k\x00": 1}) == ("/", "字段名包含不允许的控制字符 U+0000")


SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["工程名称", "开工日期"],
    "properties": {
        "工程名称": {"type": "string", "maxLength": 10, "title": "工程名称"},
        "开工日期": {"type": "string", "format": "date", "title": "开工日期"},
        "规模": {"type": "number", "minimum": 1, "title": "规模"},
    },
}


class TestForms:
    def test_valid_form_passes(self) -> None:
        assert form_errors(SCHEMA, {"工程名称": "教学楼", "开工日期": "2028-02-29", "规模": 1}) == []

    @pytest.mark.parametrize(
        ("form", "pointer", "message"),
        [
            ({"工程名称": "x" * 11, "开工日期": "2027-01-01"}, "/工程名称", "最多 10 个字符"),
            ({"工程名称": "a", "开工日期": "2027-02-30"}, "/开工日期", "不是有效的日期"),
            ({"工程名称": "a", "开工日期": "2027-01-01", "规模": 0}, "/规模", "不得小于 1"),
            ({"开工日期": "2027-01-01"}, "/工程名称", "必填项未填写"),
            ({"工程名称": " ", "开工日期": "2027-01-01"}, "/工程名称", "必填项未填写"),
        ],
    )
    def test_keywords_are_enforced_with_pointers(
        self, form: dict[str, Any], pointer: str, message: str
    ) -> None:
        assert [(e["pointer"], e["error"]) for e in form_errors(SCHEMA, form)] == [(pointer, message)]

    def test_limits_hold_whatever_the_schema(self) -> None:
        assert value_problems({"x": "y" * (FORM_MAX_BYTES + 1)})
        assert value_problems({f"k{i}": "y" * 1000 for i in range(70)})
        assert value_problems({"x": float("nan")})
        assert value_problems({"x": 10**30})
        assert value_problems({"x": "\ud800"})[0]["pointer"] == "/x"

    @pytest.mark.parametrize(
        "schema",
        [
            {"type": "object", "properties": {"a": {"type": "strin"}}},
            {"type": "object", "properties": {"a": {"pattern": "("}}},
            {"type": "object", "required": "a"},
            {"type": "array"},
            {"type": "object", "title": "\x00"},
        ],
    )
    def test_invalid_schemas_are_named(self, schema: dict[str, Any]) -> None:
        assert schema_errors(schema)

    def test_valid_schema_passes(self) -> None:
        assert schema_errors(SCHEMA) == []
        assert schema_errors({}) == []

    def test_a_form_against_an_invalid_stored_schema_is_refused_not_a_crash(self) -> None:
        errors = form_errors({"type": "object", "properties": {"a": {"type": "strin"}}}, {"a": "x"})
        assert [e["pointer"] for e in errors] == [""]
