"""窗口收件 for a unit (ADR 0119): 统一社会信用代码 with its GB 32100 check character, the 法定代表人
and the 经办人 at the counter, under the same rules as a citizen's intake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from management_factories import ACCEPTOR, ALL_MATERIALS, ITEM_CODE, OTHER_ACCEPTOR, Browser, auth, outbox
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.checkdigits import uscc_valid
from yiwang_common.contracts.management import CaseRegistered

CREDIT_CODE = "91530428MA6K000028"
AGENT_ID = "530428198506121239"
FORM = {
    "工程名称": "元江县滨江花园二期 3# 住宅楼",
    "建设地址": "元江县澧江街道滨江路 18 号",
    "建设规模": 12800.5,
    "合同价格": 3650,
    "建设单位": "元江县滨江置业有限公司",
    "施工单位": "云南建投第三建设有限公司",
    "计划开工日期": "2027-01-10",
    "计划竣工日期": "2028-06-30",
}


def _unit(**changes: Any) -> dict[str, Any]:
    return {
        "kind": "legal_person",
        "name": "元江县滨江置业有限公司",
        "credit_code": CREDIT_CODE,
        "legal_representative": "王五",
        "agent": {"name": "李四", "id_number": AGENT_ID, "phone": "13900000000"},
    } | changes


def _body(**applicant: Any) -> dict[str, Any]:
    return {
        "item_code": ITEM_CODE,
        "applicant": _unit(**applicant),
        "form": FORM,
        "paper_materials": list(ALL_MATERIALS[:-1]),
    }


async def test_a_unit_is_registered_with_its_agent_under_the_same_rules(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], item: str
) -> None:
    assert uscc_valid(CREDIT_CODE)
    r = await client.post("/cases/window-intake", json=_body(), headers=auth(ACCEPTOR))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["channel"] == "window" and body["status"] == "pending_acceptance"
    assert body["applicant"]["kind"] == "legal_person"
    assert (body["applicant"]["id_type"], body["applicant"]["id_number"]) == ("001", CREDIT_CODE)
    assert body["applicant"]["name"] == "元江县滨江置业有限公司"
    receive = body["steps"][-1]
    assert receive["step_key"] == "receive" and "经办人 李四" in receive["opinion"]
    assert "法定代表人 王五" in receive["opinion"] and "授权委托书" in receive["opinion"]
    registered = CaseRegistered.model_validate(
        (await outbox(sessionmaker, CaseRegistered.subject))[0]["data"]
    )
    assert registered.applicant.kind == "legal_person" and registered.applicant.id_number == CREDIT_CODE
    # Same rules as a citizen's: no acceptance with a required material missing.
    r = await client.post(f"/cases/{body['case_no']}/accept", json={}, headers=auth(ACCEPTOR))
    assert r.status_code == 409 and r.json()["code"] == "materials_missing"


async def test_the_legal_representative_in_person(client: httpx.AsyncClient, item: str) -> None:
    agent = {"name": "王五", "id_number": AGENT_ID, "role": "legal_representative"}
    r = await client.post("/cases/window-intake", json=_body(agent=agent), headers=auth(ACCEPTOR))
    assert r.status_code == 201, r.text
    assert "法定代表人居民身份证" in r.json()["steps"][-1]["opinion"]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"credit_code": "91530428MA6K000029"}, "credit_code_invalid"),
        ({"credit_code": "91530428MA6K0000"}, "validation_failed"),
        ({"credit_code": "91530428MA6K0000I8"}, "credit_code_invalid"),
        ({"agent": {"name": "李四", "id_number": "530428198506121230"}}, "id_number_invalid"),
        (
            {"agent": {"name": "李四", "id_number": AGENT_ID, "role": "legal_representative"}},
            "agent_mismatch",
        ),
        ({"agent": {"name": "李四"}}, "validation_failed"),
        ({"legal_representative": ""}, "validation_failed"),
        ({"kind": "legal_person", "id_number": AGENT_ID}, "validation_failed"),
    ],
)
async def test_bad_input_is_a_problem_and_changes_nothing(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    item: str,
    changes: dict[str, Any],
    code: str,
) -> None:
    r = await client.post("/cases/window-intake", json=_body(**changes), headers=auth(ACCEPTOR))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json" and r.json()["code"] == code
    assert await outbox(sessionmaker) == []


async def test_a_form_that_fails_the_schema_and_another_unit_are_refused(
    client: httpx.AsyncClient, item: str
) -> None:
    r = await client.post("/cases/window-intake", json=_body() | {"form": {}}, headers=auth(ACCEPTOR))
    assert r.status_code == 422 and r.json()["code"] == "form_invalid"
    r = await client.post("/cases/window-intake", json=_body(), headers=auth(OTHER_ACCEPTOR))
    assert r.status_code == 409 and r.json()["code"] == "item_not_handled_here"


@pytest.fixture
async def page_client(app: FastAPI) -> AsyncIterator[Browser]:
    staff = Browser(app, ACCEPTOR)
    yield staff
    await staff.http.aclose()


def _page_form(staff: Browser, application_id: str, **fields: Any) -> dict[str, Any]:
    return (
        {
            "csrf": staff.csrf,
            "application_id": application_id,
            "item_code": ITEM_CODE,
            "applicant_kind": "legal_person",
            "unit_name": "元江县滨江置业有限公司",
            "credit_code": CREDIT_CODE,
            "legal_representative": "王五",
            "agent_role": "agent",
            "agent_name": "李四",
            "agent_id_number": AGENT_ID,
            "agent_phone": "13900000000",
            "paper": list(ALL_MATERIALS[:-1]),
        }
        | {f"f_{k}": str(v) for k, v in FORM.items()}
        | fields
    )


class TestLegalPersonIntakePage:
    async def test_the_page_offers_both_kinds_and_registers_a_unit(
        self, page_client: Browser, sessionmaker: async_sessionmaker[AsyncSession], item: str
    ) -> None:
        page = await page_client.http.get("/console/manage/window-intake", params={"item_code": ITEM_CODE})
        assert page.status_code == 200
        assert 'name="applicant_kind" value="natural_person" checked' in page.text
        assert 'name="applicant_kind" value="legal_person"' in page.text
        assert 'name="credit_code"' in page.text and 'name="legal_representative"' in page.text
        application_id = page.text.split('name="application_id" value="')[1].split('"')[0]
        r = await page_client.http.post(
            "/console/manage/window-intake", data=_page_form(page_client, application_id)
        )
        assert r.status_code == 303, r.text
        case_page = await page_client.http.get(r.headers["location"])
        assert "元江县滨江置业有限公司" in case_page.text and "经办人 李四" in case_page.text
        [registered] = await outbox(sessionmaker, CaseRegistered.subject)
        applicant = CaseRegistered.model_validate(registered["data"]).applicant
        assert (applicant.kind, applicant.id_number) == ("legal_person", CREDIT_CODE)

    @pytest.mark.parametrize(
        ("fields", "field", "message"),
        [
            ({"credit_code": "91530428MA6K000029"}, "credit_code", "统一社会信用代码校验位不正确"),
            ({"credit_code": "91530428MA6K"}, "credit_code", "请填写 18 位统一社会信用代码"),
            ({"agent_id_number": "530428198506121230"}, "agent_id_number", "经办人公民身份号码校验位不正确"),
            ({"agent_id_number": ""}, "agent_id_number", "请填写经办人 18 位公民身份号码"),
            ({"legal_representative": ""}, "legal_representative", "请填写法定代表人姓名"),
            ({"agent_role": "legal_representative"}, "agent_name", "不是法定代表人"),
            ({"agent_phone": "12345"}, "agent_phone", "手机号码须为 1 开头的 11 位数字"),
        ],
    )
    async def test_refused_fields_come_back_with_their_errors_and_nothing_is_registered(
        self,
        page_client: Browser,
        sessionmaker: async_sessionmaker[AsyncSession],
        item: str,
        fields: dict[str, str],
        field: str,
        message: str,
    ) -> None:
        data = _page_form(page_client, "6f1c2b7e-8d4a-4c3b-9e2f-1a2b3c4d5e6f", **fields)
        r = await page_client.http.post("/console/manage/window-intake", data=data)
        assert r.status_code == 422, r.text
        assert f'id="{field}"' in r.text and 'aria-invalid="true" aria-describedby="err-' + field in r.text
        error = r.text.split(f'id="err-{field}">')[1].split("</p>")[0]
        assert message in error
        # What was typed stays; the legal-person kind stays chosen.
        assert 'value="legal_person" checked' in r.text and 'value="元江县滨江置业有限公司"' in r.text
        assert await outbox(sessionmaker) == []

    async def test_a_citizen_still_registers_and_bad_numbers_are_shown_beside_the_field(
        self, page_client: Browser, item: str
    ) -> None:
        data = {
            "csrf": page_client.csrf,
            "item_code": ITEM_CODE,
            "applicant_kind": "natural_person",
            "name": "王五",
            "id_number": "530428199001011230",
            "paper": list(ALL_MATERIALS),
        } | {f"f_{k}": str(v) for k, v in FORM.items()}
        r = await page_client.http.post("/console/manage/window-intake", data=data)
        assert r.status_code == 422
        assert "公民身份号码校验位不正确" in r.text.split('id="err-id_number">')[1].split("</p>")[0]
        r = await page_client.http.post(
            "/console/manage/window-intake", data=data | {"id_number": "530428199001011231"}
        )
        assert r.status_code == 303, r.text
