"""分建 split, a province and two city platforms on one machine (ADR 0114).

Each platform keeps its accounts; a citizen of the city signs in at the province and back
(mutual recognition, one hop), without registering twice. Each platform has its own database,
NATS server, signing key, issuer and region (``modes_support``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.modes_support import (
    CITY,
    OTHER_CITY,
    Federation,
    api,
    bearer,
    federation,
    password_token,
    split_with,
)
from yiwang_common.db import session_scope, utcnow
from yiwang_gateway.identity.repository import SessionRepository

# --- 分建 split ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def built_split() -> AsyncIterator[Federation]:
    specs = [
        ("province", "530000", "split", split_with(CITY, OTHER_CITY)),
        (CITY, "530400", "split", split_with("province")),
        # The other city recognises the province only, not the first city.
        (OTHER_CITY, "530100", "split", split_with("province")),
    ]
    async with federation(specs) as platforms:
        yield platforms


@pytest.fixture
async def split(built_split: Federation) -> dict[str, Any]:
    await built_split.empty()
    platforms = built_split.platforms
    await platforms[CITY].add_account("wang_wu", name="王五")
    await platforms[CITY].add_account("yuxi_staff", kind="staff", name="玉溪窗口")
    await platforms["province"].add_account("zhao_liu", name="赵六")
    await platforms[OTHER_CITY].add_account("kunming_ren", name="昆明人")
    return {"platforms": platforms, "hosts": built_split.hosts}


class TestSplit:
    async def test_a_citizen_of_the_city_signs_in_at_the_province_without_registering_again(
        self, split: dict[str, Any]
    ) -> None:
        p, hosts = split["platforms"], split["hosts"]
        first = await password_token(p["province"], hosts, "wang_wu")
        assert first.status_code == 200, first.text
        principal = await p["province"].app.state.token_verifier.averify(first.json()["access_token"])
        assert principal.issuer == p["province"].issuer and principal.name == "王五"
        assert principal.kind == "natural_person" and principal.realname_level == "L2"
        second = await password_token(p["province"], hosts, "wang_wu")
        assert second.json()["principal"]["sub"] == principal.sub  # one linked account
        # The password stays the city's: a wrong one is refused, and the city checked it.
        wrong = await password_token(p["province"], hosts, "wang_wu", "not-the-password")
        assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_credentials"
        failed = [a for a in await p["province"].audits() if a["action"] == "sign_in_failed"]
        assert [(a["actor_name"], a["detail"]["method"], a["detail"]["reason"]) for a in failed] == [
            ("wang_wu", "peer", "not_recognised")
        ]
        # The city's check sessions were ended there at once.
        async with session_scope(p[CITY].app.state.sessionmaker) as session:
            live = await SessionRepository.from_session(session).live_count(
                p[CITY].users["wang_wu"], utcnow()
            )
        assert live == 0
        # Case access at the province: its own cases of the linked account, nobody else's.
        await p["province"].add_case(principal.sub, "530000202612020000015")
        await p["province"].add_case(str(p["province"].users["zhao_liu"]), "530000202612020000026")
        async with api(p["province"], hosts) as client:
            listed = (await client.get("/me/cases", headers=bearer(second.json()["access_token"]))).json()
        assert [c["case_no"] for c in listed["items"]] == ["530000202612020000015"]

    async def test_and_the_other_way_round(self, split: dict[str, Any]) -> None:
        p, hosts = split["platforms"], split["hosts"]
        r = await password_token(p[CITY], hosts, "zhao_liu")
        assert r.status_code == 200, r.text
        assert r.json()["principal"]["name"] == "赵六"
        # The city's own citizens sign in as always.
        assert (await password_token(p[CITY], hosts, "wang_wu")).status_code == 200

    async def test_staff_and_unknown_names_are_not_recognised(self, split: dict[str, Any]) -> None:
        p, hosts = split["platforms"], split["hosts"]
        staff = await password_token(p["province"], hosts, "yuxi_staff")
        assert staff.status_code == 401
        assert (await password_token(p["province"], hosts, "nobody_anywhere")).status_code == 401

    async def test_a_city_cannot_read_another_citys_citizens_or_cases(self, split: dict[str, Any]) -> None:
        p, hosts = split["platforms"], split["hosts"]
        # The other city does not recognise the first city: its citizen is unknown there …
        assert (await password_token(p[OTHER_CITY], hosts, "wang_wu")).status_code == 401
        # … and the first city's tokens are from an issuer it does not trust.
        city_token = (await password_token(p[CITY], hosts, "wang_wu")).json()["access_token"]
        await p[CITY].add_case(str(p[CITY].users["wang_wu"]), "530400202612020000037")
        async with api(p[OTHER_CITY], hosts) as client:
            r = await client.get("/me/cases", headers=bearer(city_token))
        assert r.status_code == 401 and "不受信任" in r.json()["detail"]
        # Even the province, which recognises the city's citizens, serves only its own tokens: a
        # city token (a city administrator's, say) never acts at the province.
        async with api(p["province"], hosts) as client:
            r = await client.get("/me/cases", headers=bearer(city_token))
        assert r.status_code == 401 and "不受信任" in r.json()["detail"]
