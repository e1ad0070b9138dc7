"""实名等级 L3: a 受理人 at a window raises an account after checking the original document, with a
recorded reason that is also audited; nobody else can, and bad input changes nothing (ADR 0114)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from gateway_support import Accounts
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.db import session_scope
from yiwang_common.testing import outbox_events
from yiwang_gateway.account.models import Account, RealnameVerification
from yiwang_gateway.db import messaging

URL = "/api/v1/realname-verifications"
REASON = "本人持居民身份证原件到元江县政务服务中心 3 号窗口现场核验"
AUDIT = "yiwang.gateway.audit.recorded.v1"


async def _token_rnl(client: httpx.AsyncClient, username: str) -> str | None:
    r = await client.post("/api/v1/auth/token", json={"username": username, "password": "demo123"})
    assert r.status_code == 200
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    level: str | None = me.json()["realname_level"]
    return level


class TestL3:
    async def test_an_acceptor_raises_an_account_to_l3_with_a_recorded_reason(
        self,
        client: httpx.AsyncClient,
        accounts: Accounts,
        auth: Callable[[Account], dict[str, str]],
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        async with session_scope(sessionmaker) as session:
            # Registered and verified against the 人口库 (ADR 0104).
            (await session.get_one(Account, accounts.zhangsan.id)).realname_level = "L2"
        assert await _token_rnl(client, "zhangsan") == "L2"
        body = {"id_type": "111", "id_number": "530428199001011231", "method": "in_person", "reason": REASON}
        r = await client.post(URL, json=body, headers=auth(accounts.chuangkou))
        assert r.status_code == 201, r.text
        answer = r.json()
        assert answer["account_id"] == str(accounts.zhangsan.id)
        assert (answer["level_before"], answer["realname_level"]) == ("L2", "L3")
        assert answer["name_masked"] != "张三" and answer["name_masked"].startswith("张")
        assert await _token_rnl(client, "zhangsan") == "L3"
        async with session_scope(sessionmaker) as session:
            [record] = (await session.execute(select(RealnameVerification))).scalars().all()
        assert record.reason == REASON and record.method == "in_person"
        assert record.staff_id == str(accounts.chuangkou.id) and record.level_before == "L2"
        [audit] = [
            e["data"]
            for _, e in await outbox_events(sessionmaker, messaging.outbox, AUDIT)
            if e["data"]["action"] == "realname_verified"
        ]
        assert audit["reason"] == REASON and audit["actor_id"] == str(accounts.chuangkou.id)
        assert audit["target_id"] == str(accounts.zhangsan.id) and audit["detail"]["level_after"] == "L3"
        # Once is enough: a second raise is refused and records nothing.
        again = await client.post(URL, json=body, headers=auth(accounts.chuangkou))
        assert again.status_code == 409 and again.json()["code"] == "realname_already_verified"

    async def test_a_company_by_its_credit_code_through_a_trusted_channel(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Callable[[Account], dict[str, str]]
    ) -> None:
        body = {
            "id_type": "001",
            "id_number": "91530428MA6K000015",
            "method": "trusted_channel",
            "reason": "法定代表人经电子营业执照核验",
        }
        r = await client.post(URL, json=body, headers=auth(accounts.chuangkou))
        assert r.status_code == 201 and r.json()["realname_level"] == "L3"

    async def test_only_an_acceptor_may_and_bad_input_changes_nothing(
        self,
        client: httpx.AsyncClient,
        accounts: Accounts,
        auth: Callable[[Account], dict[str, str]],
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        body = {"id_number": "530428199001011231", "method": "in_person", "reason": REASON}
        # The applicant cannot raise themselves; no token is 401.
        assert (await client.post(URL, json=body, headers=auth(accounts.zhangsan))).status_code == 403
        assert (await client.post(URL, json=body)).status_code == 401
        staff = auth(accounts.chuangkou)
        for bad in (
            {**body, "reason": ""},  # a reason is required
            {**body, "method": "phone_call"},
            {**body, "id_number": "5304281990"},
            {k: v for k, v in body.items() if k != "reason"},
        ):
            assert (await client.post(URL, json=bad, headers=staff)).status_code == 422
        unknown = await client.post(URL, json={**body, "id_number": "530428199203151232"}, headers=staff)
        assert unknown.status_code == 404
        async with session_scope(sessionmaker) as session:
            assert (await session.execute(select(RealnameVerification))).first() is None
        assert await _token_rnl(client, "zhangsan") is None
