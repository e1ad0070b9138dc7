"""基础库 Base registries: file checks, loads with progress, idempotent reloads, exact-match lookups,
deny-by-default access and a record of every lookup."""

from __future__ import annotations

import asyncio
import io
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from openpyxl import Workbook
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common import testing
from yiwang_common.auth import Principal
from yiwang_common.db import session_scope
from yiwang_datasharing.config import Settings
from yiwang_datasharing.registry.files import Registry, parse_registry_file
from yiwang_datasharing.registry.loading import DEMO_DIR, load_file, registry_command
from yiwang_datasharing.registry.models import LegalPersonRecord, PopulationRecord, RegistryLookup

ZHANG = "530428199001011231"
BAD_ID = "530428199001011232"
USCC = "91530428MA6K000015"
GATEWAY = testing.bearer(Principal(sub="gateway", name="门户", kind="service"))
OTHER_SERVICE = testing.bearer(Principal(sub="management", name="管理平台", kind="service"))
ADMIN = testing.bearer(
    Principal(
        sub="admin-1", name="管理员", kind="staff", roles=frozenset({"admin"}), org_code="11530428893884844E"
    )
)
WINDOW = testing.bearer(
    Principal(
        sub="win-1", name="窗口", kind="staff", roles=frozenset({"acceptor"}), org_code="11530428015176456L"
    )
)
CITIZEN = testing.bearer(
    Principal(sub="acct-1", name="张三", kind="natural_person", roles=frozenset({"applicant"}))
)
CSV_HEADER = "公民身份号码,姓名,性别,住址\n"


@pytest.fixture(autouse=True)
async def _empty_registries(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with session_scope(sessionmaker) as session:
        for model in (PopulationRecord, LegalPersonRecord, RegistryLookup):
            await session.execute(delete(model))


async def _load(
    client: httpx.AsyncClient, registry: str, content: bytes, filename: str = "p.csv"
) -> dict[str, Any]:
    r = await client.post(
        f"/api/v1/registry/{registry}/loads", params={"filename": filename}, content=content, headers=ADMIN
    )
    assert r.status_code == 202, r.text
    assert r.headers["location"] == r.json()["links"]["self"]
    for _ in range(200):
        job = (await client.get(r.json()["links"]["self"], headers=ADMIN)).json()
        if job["status"] != "running":
            return job  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)
    raise AssertionError("the load never finished")


async def _demo(client: httpx.AsyncClient) -> None:
    for registry in Registry:
        job = await _load(client, registry.value, (DEMO_DIR / f"{registry.value}.csv").read_bytes())
        assert job["status"] == "completed" and job["error_count"] == 0, job


class TestFileChecks:
    def test_bad_rows_are_reported_by_row_column_and_reason_and_good_rows_kept(self) -> None:
        content = (
            CSV_HEADER
            + f"{ZHANG},张三,男,\n"
            + f"{BAD_ID},李四,女,\n"  # wrong check digit
            + "53042819900101123,王五,,\n"  # 17 digits
            + f"{ZHANG},张三丰,男,\n"  # the same number twice
            + "530428199013011239,赵六,,\n"  # month 13 (check digit right)
            + "530428199203151232,,女,\n"  # name missing; gender contradicts the number
        ).encode()
        parsed = parse_registry_file(Registry.POPULATION, content, "p.csv")
        assert parsed.total_rows == 6 and [r["id_number"] for r in parsed.rows] == [ZHANG]
        errors = {(e.row, e.column): e.reason for e in parsed.errors}
        assert "校验码错误" in errors[(3, "公民身份号码")]
        assert "18 位" in errors[(4, "公民身份号码")]
        assert "与第 2 行重复" in errors[(5, "公民身份号码")]
        assert "出生日期" in errors[(6, "公民身份号码")]
        assert errors[(7, "姓名")] == "必填项为空"

    def test_gender_must_agree_with_the_number(self) -> None:
        parsed = parse_registry_file(
            Registry.POPULATION, (CSV_HEADER + f"{ZHANG},张三,女,\n").encode(), "p.csv"
        )
        assert parsed.rows == [] and "号码表示男" in parsed.errors[0].reason

    def test_bad_credit_code_is_refused(self) -> None:
        header = "统一社会信用代码,单位名称,法定代表人,法定代表人公民身份号码\n"
        content = (
            header + f"91530428MA6K000016,某公司,张三,{ZHANG}\n" + f"{USCC},某公司,张三,{BAD_ID}\n"
        ).encode()
        parsed = parse_registry_file(Registry.LEGAL_PERSON, content, "l.csv")
        assert parsed.rows == []
        assert [(e.row, e.column) for e in parsed.errors] == [
            (2, "统一社会信用代码"),
            (3, "法定代表人公民身份号码"),
        ]

    def test_xlsx_rows_are_read_like_csv(self) -> None:
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(["姓名", "公民身份号码"])  # columns in any order
        sheet.append(["张三", ZHANG])
        sheet.append(["李四", BAD_ID])
        buffer = io.BytesIO()
        book.save(buffer)
        parsed = parse_registry_file(Registry.POPULATION, buffer.getvalue(), "p.xlsx")
        assert [r["name"] for r in parsed.rows] == ["张三"]
        assert [(e.row, e.column) for e in parsed.errors] == [(3, "公民身份号码")]


class TestLoads:
    async def test_load_reports_progress_and_a_reload_changes_nothing(
        self, client: httpx.AsyncClient
    ) -> None:
        content = (DEMO_DIR / "population.csv").read_bytes()
        first = await _load(client, "population", content)
        assert first["status"] == "completed"
        assert (first["total_rows"], first["processed_rows"], first["inserted"]) == (6, 6, 6)
        again = await _load(client, "population", content)
        assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 6)
        changed = content.replace("红河路1号".encode(), "红河路99号".encode())
        third = await _load(client, "population", changed)
        assert (third["inserted"], third["updated"], third["unchanged"]) == (0, 1, 5)

    async def test_a_file_with_bad_rows_loads_the_good_ones_and_lists_the_bad(
        self, client: httpx.AsyncClient
    ) -> None:
        job = await _load(
            client, "population", (CSV_HEADER + f"{ZHANG},张三,男,\n{BAD_ID},李四,女,\n").encode()
        )
        assert job["status"] == "completed" and job["inserted"] == 1 and job["error_count"] == 1
        assert job["errors"][0]["row"] == 3 and job["errors"][0]["column"] == "公民身份号码"

    async def test_unreadable_file_fails_the_job_with_the_reason(self, client: httpx.AsyncClient) -> None:
        job = await _load(client, "legal_person", "单位名称\n某公司\n".encode())
        assert job["status"] == "failed" and "统一社会信用代码" in job["detail"]

    @pytest.mark.parametrize("headers", [WINDOW, CITIZEN, GATEWAY])
    async def test_only_an_administrator_loads(
        self, client: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        r = await client.post("/api/v1/registry/population/loads", content=b"x", headers=headers)
        assert r.status_code == 403 and r.json()["code"] == "registry_access_denied"
        r = await client.get(f"/api/v1/registry/loads/{uuid.uuid4()}", headers=headers)
        assert r.status_code == 403

    async def test_unknown_job_is_404(self, client: httpx.AsyncClient) -> None:
        r = await client.get(f"/api/v1/registry/loads/{uuid.uuid4()}", headers=ADMIN)
        assert r.status_code == 404 and r.json()["code"] == "registry_load_not_found"

    async def test_command_line_loader_reports_progress(self, settings: Settings, tmp_path: Path) -> None:
        path = tmp_path / "legal.csv"
        path.write_bytes((DEMO_DIR / "legal_person.csv").read_bytes())
        seen: list[tuple[int, int]] = []
        job = await load_file(
            settings,
            Registry.LEGAL_PERSON,
            path,
            started_by="cli",
            on_progress=lambda d, t: seen.append((d, t)),
        )
        assert job.status == "completed" and job.inserted == 3
        assert seen[-1] == (3, 3)

    def test_command_line_prints_row_errors_and_exits_by_outcome(
        self, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = tmp_path / "people.csv"
        path.write_text(CSV_HEADER + f"{ZHANG},张三,男,\n{BAD_ID},李四,女,\n", encoding="utf-8")
        assert registry_command(settings, ["load", "population", str(path)]) == 1
        err = capsys.readouterr().err
        assert "第 3 行 公民身份号码：公民身份号码校验码错误" in err
        assert "共 2 行" in err and "错误 1" in err
        path.write_text(CSV_HEADER + f"{ZHANG},张三,男,\n", encoding="utf-8")
        assert registry_command(settings, ["load", "population", str(path)]) == 0
        assert "未变 1" in capsys.readouterr().err
        path.write_text("姓名\n张三\n", encoding="utf-8")
        assert registry_command(settings, ["load", "population", str(path)]) == 2
        assert registry_command(settings, ["load", "population", str(tmp_path / "missing.csv")]) == 2


class TestLookups:
    async def test_exact_match_verifies_and_anything_else_does_not(self, client: httpx.AsyncClient) -> None:
        await _demo(client)
        url = "/api/v1/registry/persons/verification"
        ok = await client.post(url, json={"id_number": ZHANG, "name": "张三"}, headers=GATEWAY)
        assert ok.status_code == 200 and ok.json()["matched"] is True
        wrong = await client.post(url, json={"id_number": ZHANG, "name": "张"}, headers=GATEWAY)
        assert wrong.json()["matched"] is False
        absent = await client.post(
            url, json={"id_number": "530428200002203214", "name": "x"}, headers=GATEWAY
        )
        assert absent.status_code == 200 and absent.json() == wrong.json()  # indistinguishable

    async def test_bad_check_digit_is_422(self, client: httpx.AsyncClient) -> None:
        r = await client.post(
            "/api/v1/registry/persons/verification",
            json={"id_number": BAD_ID, "name": "张三"},
            headers=GATEWAY,
        )
        assert r.status_code == 422 and r.json()["code"] == "invalid_lookup_key"
        r = await client.post(
            "/api/v1/registry/legal-persons/lookup",
            json={"credit_code": "91530428MA6K000016"},
            headers=GATEWAY,
        )
        assert r.status_code == 422

    async def test_prefill_needs_name_and_number(self, client: httpx.AsyncClient) -> None:
        await _demo(client)
        r = await client.post(
            "/api/v1/registry/persons/lookup", json={"id_number": ZHANG, "name": "张三"}, headers=GATEWAY
        )
        assert r.status_code == 200 and r.json()["gender"] == "男" and r.json()["birth_date"] == "1990-01-01"
        r = await client.post(
            "/api/v1/registry/persons/lookup", json={"id_number": ZHANG, "name": "李四"}, headers=GATEWAY
        )
        assert r.status_code == 404 and r.json()["code"] == "registry_record_not_found"

    async def test_legal_person_verification_and_prefill(self, client: httpx.AsyncClient) -> None:
        await _demo(client)
        body = {
            "credit_code": USCC,
            "name": "元江县城市建设投资有限公司",
            "legal_rep_name": "张三",
            "legal_rep_id_number": ZHANG,
        }
        r = await client.post("/api/v1/registry/legal-persons/verification", json=body, headers=GATEWAY)
        assert r.json() == {"matched": True, "active": True}
        other = {**body, "legal_rep_name": "李四"}
        r = await client.post("/api/v1/registry/legal-persons/verification", json=other, headers=GATEWAY)
        assert r.json()["matched"] is False
        r = await client.post(
            "/api/v1/registry/legal-persons/lookup", json={"credit_code": USCC}, headers=GATEWAY
        )
        assert r.json()["legal_rep_id_number_masked"] == "530428********1231"

    @pytest.mark.parametrize("headers", [CITIZEN, OTHER_SERVICE, ADMIN])
    async def test_everyone_else_is_denied(self, client: httpx.AsyncClient, headers: dict[str, str]) -> None:
        r = await client.post(
            "/api/v1/registry/persons/verification",
            json={"id_number": ZHANG, "name": "张三"},
            headers=headers,
        )
        assert r.status_code == 403 and r.json()["code"] == "registry_access_denied"

    async def test_anonymous_is_401(self, client: httpx.AsyncClient) -> None:
        r = await client.post(
            "/api/v1/registry/persons/verification", json={"id_number": ZHANG, "name": "张三"}
        )
        assert r.status_code == 401

    async def test_window_staff_need_a_reason(self, client: httpx.AsyncClient) -> None:
        await _demo(client)
        body = {"id_number": ZHANG, "name": "张三"}
        r = await client.post("/api/v1/registry/persons/verification", json=body, headers=WINDOW)
        assert r.status_code == 400 and r.json()["code"] == "access_reason_required"
        headers = {**WINDOW, "X-Access-Reason": quote("窗口现场核验身份")}
        r = await client.post("/api/v1/registry/persons/verification", json=body, headers=headers)
        assert r.status_code == 200 and r.json()["matched"] is True

    async def test_there_is_no_way_to_list_or_search(self, client: httpx.AsyncClient) -> None:
        for path in (
            "/api/v1/registry/persons",
            "/api/v1/registry/legal-persons",
            f"/api/v1/registry/persons/{ZHANG}",
        ):
            assert (await client.get(path, headers=GATEWAY)).status_code in (404, 405)

    async def test_every_lookup_is_recorded_with_the_number_masked(
        self, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        await _demo(client)
        headers = {**GATEWAY, "X-On-Behalf-Of": "acct-42"}
        await client.post(
            "/api/v1/registry/persons/verification",
            json={"id_number": ZHANG, "name": "张三"},
            headers=headers,
        )
        await client.post(
            "/api/v1/registry/persons/lookup",
            json={"id_number": ZHANG, "name": "错"},
            headers={**WINDOW, "X-Access-Reason": quote("现场核验")},
        )
        async with sessionmaker() as session:
            rows = (await session.execute(select(RegistryLookup).order_by(RegistryLookup.id))).scalars().all()
        assert [(r.purpose, r.caller_sub, r.on_behalf_of, r.reason, r.matched) for r in rows] == [
            ("verify", "gateway", "acct-42", None, True),
            ("prefill", "win-1", None, "现场核验", False),
        ]
        assert {r.key_masked for r in rows} == {"530428********1231"}


class TestLicencesOfHolder:
    async def test_only_the_portal_lists_a_holders_licences(
        self, client: httpx.AsyncClient, deliver: Any, story: Any
    ) -> None:
        await deliver(story.decided(), 3)
        r = await client.get("/api/v1/licences/by-holder", params={"holder_code": ZHANG}, headers=GATEWAY)
        assert r.status_code == 200
        assert story.licence.identifier in [i["identifier"] for i in r.json()["items"]]
        assert all(i["holder_code"] == ZHANG for i in r.json()["items"])
        for headers in (CITIZEN, WINDOW, OTHER_SERVICE):
            r = await client.get("/api/v1/licences/by-holder", params={"holder_code": ZHANG}, headers=headers)
            assert r.status_code == 403 and r.json()["code"] == "licence_listing_denied"
        r = await client.get("/api/v1/licences/by-holder", params={"holder_code": "x;drop"}, headers=GATEWAY)
        assert r.status_code == 422
