"""The one staff sign-in (ADR 0016, 0021): the gateway's page sets the yiwang_staff cookie for staff only."""

from __future__ import annotations

import httpx
from gateway_support import Accounts

from yiwang_common.auth import TokenVerifier
from yiwang_common.staff_session import COOKIE_NAME
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
