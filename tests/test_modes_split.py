"""分建 split, a province and two city platforms on one machine (ADR 0114).

Each platform keeps its accounts; a citizen of the city signs in at the province and back
(mutual recognition, one hop), without registering twice. Each platform has its own database,
NATS server, signing key, issuer and region (``modes_support``).
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.modes_support import (
    BACKCHANNEL_PATH,
    CITY,
    OTHER_CITY,
    PASSWORD,
    Federation,
    Platform,
    api,
    bearer,
    federation,
    password_token,
    split_with,
)
from yiwang_common.db import session_scope, utcnow
from yiwang_gateway.federation.models import LogoutDelivery
from yiwang_gateway.identity.repository import SessionRepository

WANG_WU_PHONE = "13800000055"
SMS_GRANT = "urn:yiwang:params:oauth:grant-type:sms-code"
SMS_LOGGER = "yiwang_gateway.identity.sms"

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
    await platforms[CITY].add_account("wang_wu", name="王五", phone=WANG_WU_PHONE)
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


# --- single logout between peers (ADR 0116) --------------------------------------------------


async def _live(platform: Platform, account_id: uuid.UUID) -> int:
    async with session_scope(platform.app.state.sessionmaker) as session:
        return await SessionRepository.from_session(session).live_count(account_id, utcnow())


async def _audiences(platform: Platform) -> list[str]:
    async with session_scope(platform.app.state.sessionmaker) as session:
        rows = await session.execute(select(LogoutDelivery.audience).order_by(LogoutDelivery.audience))
        return [str(a) for a in rows.scalars()]


async def _deliver_until(platform: Platform, done: Callable[[], Awaitable[bool]]) -> None:
    deadline = asyncio.get_running_loop().time() + 30
    while not await done():
        await platform.app.state.logout.deliver_due(
            platform.app.state.sessionmaker, now=utcnow() + timedelta(hours=1)
        )
        assert asyncio.get_running_loop().time() < deadline, "the peer never ended the sessions"
        await asyncio.sleep(0.05)


class TestSplitSingleLogout:
    async def test_a_password_change_at_the_home_city_ends_the_sessions_the_province_opened(
        self, split: dict[str, Any]
    ) -> None:
        p, hosts = split["platforms"], split["hosts"]
        province, city = p["province"], p[CITY]
        at_province = await password_token(province, hosts, "wang_wu")
        assert at_province.status_code == 200
        linked = uuid.UUID(at_province.json()["principal"]["sub"])
        assert (await password_token(province, hosts, "wang_wu")).status_code == 200
        assert await _live(province, linked) == 2
        home = (await password_token(city, hosts, "wang_wu")).json()["access_token"]
        async with api(city, hosts) as client:
            r = await client.post(
                "/auth/password",
                json={"current_password": PASSWORD, "new_password": "another-secret-9"},
                headers=bearer(home),
            )
        assert r.status_code == 200, r.text
        # The city tells its peer (the province); it has no other.
        assert await _audiences(city) == [province.issuer]

        async def ended() -> bool:
            return await _live(province, linked) == 0

        await _deliver_until(city, ended)
        # The province's refresh tokens of that account are dead too.
        async with api(province, hosts) as client:
            refresh = await client.post(
                "/auth/token",
                data={"grant_type": "refresh_token", "refresh_token": at_province.json()["refresh_token"]},
            )
        assert refresh.status_code == 400

    async def test_signing_out_everywhere_at_the_province_ends_its_citizens_sessions_at_the_cities(
        self, split: dict[str, Any]
    ) -> None:
        p, hosts = split["platforms"], split["hosts"]
        province, city = p["province"], p[CITY]
        at_city = await password_token(city, hosts, "zhao_liu")
        linked = uuid.UUID(at_city.json()["principal"]["sub"])
        home = (await password_token(province, hosts, "zhao_liu")).json()["access_token"]
        async with api(province, hosts) as client:
            # One session only: nothing is told (the peer's sessions are not this one).
            other_home = (await password_token(province, hosts, "zhao_liu")).json()["access_token"]
            assert (await client.post("/auth/sign-out", headers=bearer(other_home))).status_code == 200
            assert await _audiences(province) == []
            r = await client.post("/auth/sign-out", json={"everywhere": True}, headers=bearer(home))
        assert r.status_code == 200
        assert await _audiences(province) == sorted([city.issuer, p[OTHER_CITY].issuer])

        async def ended() -> bool:
            return await _live(city, linked) == 0

        await _deliver_until(province, ended)

    async def test_a_recognised_account_signing_out_everywhere_tells_nobody_and_a_peer_cannot_end_locals(
        self, split: dict[str, Any]
    ) -> None:
        p, hosts = split["platforms"], split["hosts"]
        province, city = p["province"], p[CITY]
        # wang_wu's account at the province stands for the city's: its sign-out is the province's own.
        token = (await password_token(province, hosts, "wang_wu")).json()["access_token"]
        async with api(province, hosts) as client:
            r = await client.post("/auth/sign-out", json={"everywhere": True}, headers=bearer(token))
        assert r.status_code == 200 and await _audiences(province) == []
        # A city's logout token naming one of the province's own accounts ends nothing there.
        zhao = (await password_token(province, hosts, "zhao_liu")).json()
        forged = city.app.state.token_issuer.issue_logout_token(
            audience=province.issuer, subject=str(province.users["zhao_liu"]), session_id=None
        )
        async with httpx.AsyncClient(transport=hosts) as client:
            r = await client.post(province.url + BACKCHANNEL_PATH, data={"logout_token": forged})
            assert r.status_code == 200 and r.json() == {"sessions_ended": 0}
            # Addressed to another platform (the other city), it is refused.
            wrong = city.app.state.token_issuer.issue_logout_token(
                audience=p[OTHER_CITY].issuer, subject=str(province.users["zhao_liu"]), session_id=None
            )
            r = await client.post(province.url + BACKCHANNEL_PATH, data={"logout_token": wrong})
            assert r.status_code == 400
        assert await _live(province, uuid.UUID(zhao["principal"]["sub"])) == 1


class TestSplitSms:
    """分建: an SMS code is this platform's own accounts' only; a peer's citizen is told what works."""

    async def test_a_peers_citizen_gets_no_code_and_is_told_to_use_the_password(
        self, split: dict[str, Any], caplog: pytest.LogCaptureFixture
    ) -> None:
        p, hosts = split["platforms"], split["hosts"]
        province = p["province"]
        caplog.set_level(logging.INFO, logger=SMS_LOGGER)
        async with api(province, hosts) as client:
            # The same answer as for any number (nothing tells which numbers have accounts) …
            sent = await client.post("/auth/sms-code", json={"phone": WANG_WU_PHONE})
            assert sent.status_code == 202, sent.text
            # … but no text message: the number is the city's, and the peer protocol checks
            # passwords only (a code is never asked of, nor sent by, another platform).
            assert not [r for r in caplog.records if "验证码为" in r.getMessage()]
            grant = await client.post(
                "/auth/token", data={"grant_type": SMS_GRANT, "phone": WANG_WU_PHONE, "code": "123456"}
            )
        assert grant.status_code == 401 and grant.json()["code"] == "invalid_sms_code"
        assert "请使用密码登录" in grant.json()["detail"] and "city" in grant.json()["detail"]
        assert not [r for r in hosts.requests if r.url.host == f"{CITY}.test"]  # the city was not asked
        # The page says it before and after.
        async with httpx.AsyncClient(transport=hosts, base_url=province.url) as b:
            tab = await b.get("/sign-in", params={"method": "sms"})
            assert "短信验证码登录仅适用于在本平台注册的账户" in tab.text
            failed = await b.post(
                "/sign-in/sms",
                data={"phone": WANG_WU_PHONE, "code": "123456"},
                headers={"Origin": province.url},
            )
        assert failed.status_code == 401 and "请使用密码登录" in failed.text
        # The password works (checked at the city), and at home the SMS code does.
        assert (await password_token(province, hosts, "wang_wu")).status_code == 200
        async with api(p[CITY], hosts) as client:
            assert (await client.post("/auth/sms-code", json={"phone": WANG_WU_PHONE})).status_code == 202
            messages = [r.getMessage() for r in caplog.records if "验证码为" in r.getMessage()]
            assert len(messages) == 1
            found = re.search(r"验证码为 (\d{6})", messages[0])
            assert found
            home = await client.post(
                "/auth/token", data={"grant_type": SMS_GRANT, "phone": WANG_WU_PHONE, "code": found.group(1)}
            )
        assert home.status_code == 200 and home.json()["principal"]["name"] == "王五", home.text
