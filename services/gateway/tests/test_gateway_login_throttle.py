"""POST /api/v1/auth/token is throttled per account name and per client address (ADR 0013).

The backoff here starts at 10 minutes so that no test depends on how fast the machine is:
a blocked key stays blocked for the whole test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from gateway_support import Accounts, make_settings
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.db import session_scope
from yiwang_gateway.account.throttle import delay_after
from yiwang_gateway.config import LoginThrottleSettings
from yiwang_gateway.main import create_app

URL = "/api/v1/auth/token"
LIMITS = {
    "account_free_failures": 5,
    "account_lockout_failures": 8,
    "client_free_failures": 12,
    "client_lockout_failures": 20,
    "backoff_base_seconds": 600,
    "trusted_proxies": ["10.0.0.0/8"],
}


@pytest.fixture(scope="module")
async def throttled_app(database_url: str) -> AsyncIterator[FastAPI]:
    application = create_app(make_settings(database_url, login=LIMITS))
    async with application.router.lifespan_context(application):
        yield application


def client_from(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def login(c: httpx.AsyncClient, username: str, password: str, **kw: Any) -> httpx.Response:
    return await c.post(URL, json={"username": username, "password": password}, **kw)


def comparable(response: httpx.Response) -> tuple[int, dict[str, Any], str | None]:
    body = {k: v for k, v in response.json().items() if k not in ("request_id", "retry_after", "detail")}
    return response.status_code, body, response.headers.get("content-type")


class TestAccountThrottle:
    async def test_thirty_wrong_passwords_then_the_right_one_is_refused_with_429(
        self, throttled_app: FastAPI, accounts: Accounts
    ) -> None:
        async with client_from(throttled_app, "192.0.2.1") as c:
            answers = [await login(c, "zhangsan", f"wrong-{i}") for i in range(30)]
            right = await login(c, "zhangsan", "demo123")
        assert [r.status_code for r in answers[:5]] == [401] * 5
        assert {r.status_code for r in answers[5:]} == {429}
        assert right.status_code == 429
        assert right.headers["content-type"] == "application/problem+json"
        assert int(right.headers["retry-after"]) > 0
        body = right.json()
        assert body["status"] == 429 and body["code"] == "login_throttled"
        assert body["retry_after"] == int(right.headers["retry-after"])
        assert "access_token" not in right.text

    async def test_unknown_account_gets_exactly_the_same_answers(
        self, throttled_app: FastAPI, accounts: Accounts
    ) -> None:
        async with client_from(throttled_app, "192.0.2.2") as c:
            known = [comparable(await login(c, "lisi", "wrong")) for _ in range(7)]
        async with client_from(throttled_app, "192.0.2.3") as c:
            unknown = [comparable(await login(c, "no-such-user", "wrong")) for _ in range(7)]
        assert known == unknown
        assert [k[0] for k in known] == [401] * 5 + [429] * 2

    async def test_success_resets_the_account_counter(
        self, throttled_app: FastAPI, accounts: Accounts
    ) -> None:
        async with client_from(throttled_app, "192.0.2.4") as c:
            for _ in range(4):
                assert (await login(c, "yjcj", "wrong")).status_code == 401
            assert (await login(c, "yjcj", "demo123")).status_code == 200
            # Four more failures would have blocked the name without the reset.
            for _ in range(4):
                assert (await login(c, "yjcj", "wrong")).status_code == 401

    async def test_the_block_holds_in_the_database_across_app_instances(
        self, throttled_app: FastAPI, database_url: str, accounts: Accounts
    ) -> None:
        async with client_from(throttled_app, "192.0.2.5") as c:
            for _ in range(5):
                await login(c, "chuangkou", "wrong")
        other = create_app(make_settings(database_url, login=LIMITS))
        async with other.router.lifespan_context(other), client_from(other, "192.0.2.6") as c:
            assert (await login(c, "chuangkou", "demo123")).status_code == 429

    async def test_lockout_after_repeated_backoffs(
        self, throttled_app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession], accounts: Accounts
    ) -> None:
        # Let each backoff run out (as time would) and keep failing: the name is then locked.
        async with client_from(throttled_app, "192.0.2.7") as c:
            for _ in range(8):
                async with session_scope(sessionmaker) as session:
                    await session.execute(text("UPDATE login_throttle SET blocked_until = NULL"))
                assert (await login(c, "zhangsan", "wrong")).status_code == 401
            locked = await login(c, "zhangsan", "demo123")
        assert locked.status_code == 429
        assert int(locked.headers["retry-after"]) > 600


class TestClientThrottle:
    async def test_one_address_guessing_many_names_is_throttled(
        self, throttled_app: FastAPI, accounts: Accounts
    ) -> None:
        async with client_from(throttled_app, "198.51.100.9") as c:
            answers = [(await login(c, f"user{i}", "wrong")).status_code for i in range(14)]
            fresh = await login(c, "lisi", "demo123")
        assert answers == [401] * 12 + [429] * 2
        assert fresh.status_code == 429
        async with client_from(throttled_app, "198.51.100.10") as c:
            assert (await login(c, "lisi", "demo123")).status_code == 200

    async def test_forwarded_for_is_ignored_from_an_untrusted_peer(
        self, throttled_app: FastAPI, accounts: Accounts
    ) -> None:
        async with client_from(throttled_app, "198.51.100.20") as c:
            for i in range(12):
                spoofed = {"X-Forwarded-For": f"203.0.113.{i}"}
                await login(c, f"user{i}", "wrong", headers=spoofed)
            r = await login(c, "lisi", "demo123", headers={"X-Forwarded-For": "203.0.113.99"})
        assert r.status_code == 429

    async def test_forwarded_for_from_a_trusted_proxy_names_the_client(
        self, throttled_app: FastAPI, accounts: Accounts
    ) -> None:
        async with client_from(throttled_app, "10.1.2.3") as c:
            for i in range(12):
                await login(c, f"user{i}", "wrong", headers={"X-Forwarded-For": "203.0.113.50"})
            blocked = await login(c, "lisi", "demo123", headers={"X-Forwarded-For": "203.0.113.50"})
            other = await login(c, "lisi", "demo123", headers={"X-Forwarded-For": "203.0.113.51, 10.9.9.9"})
        assert blocked.status_code == 429
        assert other.status_code == 200


@pytest.mark.parametrize(
    ("failures", "seconds"), [(1, 0), (4, 0), (5, 1), (6, 2), (7, 4), (9, 16), (12, 60), (20, 900)]
)
def test_backoff_doubles_then_locks(failures: int, seconds: float) -> None:
    settings = LoginThrottleSettings(backoff_base_seconds=1, backoff_max_seconds=60)
    assert delay_after(failures, free=5, lockout=20, settings=settings) == seconds
