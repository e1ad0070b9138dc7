"""The one staff sign-in (ADR 0016, 0021): the gateway's page sets the yiwang_staff cookie for staff only."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from gateway_support import Accounts

from yiwang_common.auth import TokenVerifier
from yiwang_common.staff_session import COOKIE_NAME, REFRESH_COOKIE_NAME, REFRESH_COOKIE_PATH
from yiwang_common.testing import ephemeral_auth

SIGN_IN = "/console/sign-in"


async def test_the_form_is_a_page_that_may_post_to_the_console(client: httpx.AsyncClient) -> None:
    r = await client.get(SIGN_IN)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert '<label for="username">用户名</label>' in r.text
    assert "form-action 'self' http://127.0.0.1:8001" in r.headers["content-security-policy"]


async def test_staff_get_an_httponly_strict_cookie_and_go_to_the_console(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    r = await client.post(SIGN_IN, data={"username": "chuangkou", "password": "demo123"})
    assert r.status_code == 303
    assert r.headers["location"] == "http://127.0.0.1:8001/console/manage/"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    for attribute in ("HttpOnly", "Path=/console", "SameSite=strict"):
        assert attribute.lower() in cookie.lower(), cookie
    assert "secure" not in cookie.lower()  # plain http in dev; https sets Secure
    token = cookie.split(";", 1)[0].split("=", 1)[1]
    principal = TokenVerifier(ephemeral_auth()).verify(token)
    assert principal.sub == str(accounts.chuangkou.id) and principal.kind == "staff"


async def test_citizens_wrong_passwords_and_foreign_origins_get_no_cookie(
    client: httpx.AsyncClient, accounts: Accounts
) -> None:
    cases = [
        ({"username": "zhangsan", "password": "demo123"}, {}, 403, "仅供政务服务工作人员"),
        ({"username": "chuangkou", "password": "wrong"}, {}, 401, "用户名或密码错误"),
        (
            {"username": "chuangkou", "password": "demo123"},
            {"Origin": "http://evil.example"},
            403,
            "本站登录页面",
        ),
    ]
    for data, headers, status, text in cases:
        r = await client.post(SIGN_IN, data=data, headers=headers)
        assert r.status_code == status, (data, r.text)
        assert text in r.text
        assert "set-cookie" not in r.headers


def _own_client(app: FastAPI) -> httpx.AsyncClient:
    # A cookie jar of its own: the shared client keeps whatever earlier tests were given.
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_an_expired_console_token_is_renewed_by_the_refresh_cookie_without_the_password(
    app: FastAPI, accounts: Accounts
) -> None:
    back = "http://127.0.0.1:8001/console/manage/items/X"
    async with _own_client(app) as c:
        r = await c.post(SIGN_IN, data={"username": "chuangkou", "password": "demo123"})
        assert r.status_code == 303
        refresh = c.cookies.get(REFRESH_COOKIE_NAME)
        assert refresh
        assert f"Path={REFRESH_COOKIE_PATH}" in ";".join(r.headers.get_list("set-cookie"))
        # The access cookie is gone (expired); the console sends the browser back with next=.
        c.cookies.delete(COOKIE_NAME)
        r = await c.get(SIGN_IN, params={"next": back})
        assert r.status_code == 303 and r.headers["location"] == back
        assert c.cookies.get(COOKIE_NAME) and c.cookies.get(REFRESH_COOKIE_NAME) != refresh
        # Somewhere else is not a place the sign-in page sends anyone.
        c.cookies.delete(COOKIE_NAME)
        r = await c.get(SIGN_IN, params={"next": "https://evil.example/console/"})
        assert r.status_code == 303 and r.headers["location"] == "http://127.0.0.1:8001/console/manage/"


async def test_sign_out_ends_the_session_so_the_refresh_cookie_is_worthless(
    app: FastAPI, accounts: Accounts
) -> None:
    async with _own_client(app) as c:
        await c.post(SIGN_IN, data={"username": "chuangkou", "password": "demo123"})
        refresh = c.cookies.get(REFRESH_COOKIE_NAME)
        r = await c.post("/console/sign-out")
        assert r.status_code == 303
        assert not c.cookies.get(COOKIE_NAME)
        # A copy of the refresh cookie kept elsewhere: the session is over, so it renews nothing.
        c.cookies.set(REFRESH_COOKIE_NAME, refresh or "", path=REFRESH_COOKIE_PATH)
        r = await c.get(SIGN_IN, params={"next": "http://127.0.0.1:8001/console/manage/"})
        assert r.status_code == 200 and '<label for="username">用户名</label>' in r.text
