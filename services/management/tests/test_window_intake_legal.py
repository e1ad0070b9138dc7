"""窗口收件 for a unit (ADR 0119): 统一社会信用代码 with its GB 32100 check character, the 法定代表人
and the 经办人 at the counter, under the same rules as a citizen's intake."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from management_factories import ACCEPTOR, ALL_MATERIALS, ITEM_CODE, OTHER_ACCEPTOR, auth, outbox
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
