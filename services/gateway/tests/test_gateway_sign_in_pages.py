"""The citizens' sign-in page (ADR 0103): password and SMS tabs as plain forms, two HttpOnly
cookies, a silent refresh, sign-out with a CSRF token."""

from __future__ import annotations

import logging
import re

import httpx
import pytest
from fastapi import FastAPI
from gateway_support import Accounts

from yiwang_common.staff_session import csrf_token

SMS_LOGGER = "yiwang_gateway.identity.sms"


def own_client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_the_page_has_both_tabs_as_links_and_a_csp(app: FastAPI) -> None:
    async with own_client(app) as c:
        r = await c.get("/sign-in")
        assert r.status_code == 200
        assert "default-src 'self'" in r.headers["content-security-policy"]
        assert 'href="/sign-in?method=sms"' in r.text and 'aria-current="page">密码登录' in r.text
        r = await c.get("/sign-in", params={"method": "sms"})
        assert 'formaction="/sign-in/sms/code"' in r.text and 'autocomplete="one-time-code"' in r.text
        assert (await c.get("/sign-in", params={"method": "fax"})).status_code == 422


async def test_password_sign_in_sets_two_httponly_cookies_and_goes_to_next(
    app: FastAPI, accounts: Accounts
) -> None:
    async with own_client(app) as c:
        r = await c.post("/sign-in/password", data={"username": "zhangsan", "password": "wrong"})
        assert r.status_code == 401 and "用户名或密码错误" in r.text
        assert "set-cookie" not in r.headers
        r = await c.post(
            "/sign-in/password", data={"username": "zhangsan", "password": "demo123", "next": "/search"}
        )
        assert r.status_code == 303 and r.headers["location"] == "/search"
        cookies = r.headers.get_list("set-cookie")
        assert any(c.startswith("yiwang_session=") and "HttpOnly" in c and "Path=/;" in c for c in cookies)
        assert any(
            c.startswith("yiwang_refresh=") and "Path=/sign-in" in c and "SameSite=strict" in c
            for c in cookies
        )
        r = await c.get("/sign-in")
        assert "您已登录：张三" in r.text


async def test_next_never_leaves_the_site(app: FastAPI, accounts: Accounts) -> None:
    async with own_client(app) as c:
        for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
            r = await c.post(
                "/sign-in/password", data={"username": "zhangsan", "password": "demo123", "next": target}
            )
            assert r.status_code == 303 and r.headers["location"] == "/sign-in", target


async def test_foreign_forms_sign_nobody_in(app: FastAPI, accounts: Accounts) -> None:
    async with own_client(app) as c:
        evil = {"Origin": "http://evil.example"}
        r = await c.post(
            "/sign-in/password", data={"username": "zhangsan", "password": "demo123"}, headers=evil
        )
        assert r.status_code == 403 and "set-cookie" not in r.headers
        r = await c.post("/sign-in/sms/code", data={"phone": "13800000001"}, headers=evil)
        assert r.status_code == 403


async def test_sms_tab_sends_a_code_and_signs_in_with_it(
    app: FastAPI, accounts: Accounts, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=SMS_LOGGER)
    async with own_client(app) as c:
        r = await c.post("/sign-in/sms/code", data={"phone": "13800000001"})
        assert r.status_code == 200 and "验证码已发送至 138****0001" in r.text
        assert 'value="13800000001"' in r.text
        sent = [r.getMessage() for r in caplog.records if r.name == SMS_LOGGER]
        code = re.search(r"验证码为 (\d{6})", sent[-1])
        assert code
        r = await c.post(
            "/sign-in/sms",
            data={"phone": "13800000001", "code": "000000" if code.group(1) != "000000" else "111111"},
        )
        assert r.status_code == 401 and "验证码错误或已失效" in r.text
        r = await c.post("/sign-in/sms", data={"phone": "13800000001", "code": code.group(1)})
        assert r.status_code == 303
        assert "您已登录：张三" in (await c.get("/sign-in")).text
        r = await c.post("/sign-in/sms/code", data={"phone": "1380000"})
        assert r.status_code == 422


async def renews(app: FastAPI, refresh: str) -> bool:
    """Whether a browser holding only this refresh cookie is signed in again by the page."""
    async with own_client(app) as other:
        other.cookies.set("yiwang_refresh", refresh)
        r = await other.get("/sign-in", params={"next": "/"})
        return r.status_code == 303


async def test_refresh_cookie_renews_and_sign_out_needs_the_csrf_token(
    app: FastAPI, accounts: Accounts
) -> None:
    async with own_client(app) as c:
        await c.post("/sign-in/password", data={"username": "zhangsan", "password": "demo123"})
        c.cookies.delete("yiwang_session")  # expired
        r = await c.get("/sign-in", params={"next": "/search"})
        assert r.status_code == 303 and r.headers["location"] == "/search"
        access, refresh = c.cookies.get("yiwang_session") or "", c.cookies.get("yiwang_refresh") or ""
        assert access and refresh
        # Without the form token the sign-out drops this browser's cookies but ends nothing.
        r = await c.post("/sign-out", data={"csrf": "forged"})
        assert r.status_code == 303
        assert await renews(app, refresh), "the session must still be alive after a forged sign-out"

    async with own_client(app) as c:
        await c.post("/sign-in/password", data={"username": "zhangsan", "password": "demo123"})
        access, refresh = c.cookies.get("yiwang_session") or "", c.cookies.get("yiwang_refresh") or ""
        r = await c.post("/sign-out", data={"csrf": csrf_token(access)})
        assert r.status_code == 303 and r.headers["location"] == "/sign-in"
        assert not await renews(app, refresh)
