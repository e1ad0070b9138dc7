"""我的 and 注册 pages over the real app: the session cookie, CSRF, forms that re-render with the
problem's zh-CN message, and nothing shown to someone not signed in."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
from gateway_support import Accounts
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.auth import TokenIssuer
from yiwang_common.db import session_scope
from yiwang_common.staff_session import csrf_token
from yiwang_gateway.account.agents import today
from yiwang_gateway.account.models import Account, AgentAuthorisation
from yiwang_gateway.account.service import account_service


def _cookie(issuer: TokenIssuer, account: Account) -> tuple[str, dict[str, str]]:
    token = issuer.issue(account_service.principal(account))
    return token, {"Cookie": f"yiwang_session={token}"}


async def test_my_space_needs_a_session(client: httpx.AsyncClient) -> None:
    r = await client.get("/me")
    assert r.status_code == 401 and "请先登录" in r.text
    r = await client.get("/me", headers={"Cookie": "yiwang_session=forged.token.value"})
    assert r.status_code == 401


async def test_my_space_shows_the_masked_profile(
    client: httpx.AsyncClient, accounts: Accounts, issuer: TokenIssuer
) -> None:
    _, headers = _cookie(issuer, accounts.zhangsan)
    r = await client.get("/me", headers=headers)
    assert r.status_code == 200
    assert "530428********1231" in r.text and "530428199001011231" not in r.text
    assert "138****0001" in r.text
    assert r.headers["content-security-policy"].startswith("default-src 'self'")
    assert "我的经办人" not in r.text  # a natural person has no agents to manage


async def test_staff_tokens_are_no_citizen_session(
    client: httpx.AsyncClient, accounts: Accounts, issuer: TokenIssuer
) -> None:
    _, headers = _cookie(issuer, accounts.chuangkou)
    assert (await client.get("/me", headers=headers)).status_code == 401


async def test_a_legal_person_grants_an_agent_from_the_page_with_its_csrf_token(
    client: httpx.AsyncClient,
    accounts: Accounts,
    issuer: TokenIssuer,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with session_scope(sessionmaker) as session:
        await session.execute(
            update(Account).where(Account.id == accounts.lisi.id).values(realname_level="L2")
        )
    token, headers = _cookie(issuer, accounts.yjcj)
    page = await client.get("/me", headers=headers)
    assert "我的经办人" in page.text
    form = {
        "agent_name": "李四",
        "agent_id_number": "53042819850505234X",
        "actions": ["apply", "view"],
        "valid_from": today().isoformat(),
        "valid_until": (today() + timedelta(days=10)).isoformat(),
    }
    # Without the session's CSRF token, or from another origin, nothing happens.
    r = await client.post("/me/agents", data={**form, "csrf": "0" * 64}, headers=headers)
    assert r.status_code == 401
    r = await client.post(
        "/me/agents",
        data={**form, "csrf": csrf_token(token)},
        headers={**headers, "Origin": "https://evil.example"},
    )
    assert r.status_code == 401
    async with sessionmaker() as session:
        assert (await session.execute(select(AgentAuthorisation))).first() is None
    r = await client.post("/me/agents", data={**form, "csrf": csrf_token(token)}, headers=headers)
    assert r.status_code == 303 and r.headers["location"] == "/me#agents"
    page = await client.get("/me", headers=headers)
    assert "李四（530428********234X）" in page.text
    grant_id = re.search(r"/me/agents/([0-9a-f-]{36})/revoke", page.text)
    assert grant_id is not None
    r = await client.post(
        f"/me/agents/{grant_id.group(1)}/revoke", data={"csrf": csrf_token(token)}, headers=headers
    )
    assert r.status_code == 303
    assert "已撤销" in (await client.get("/me", headers=headers)).text


async def test_a_refused_grant_re_renders_with_the_reason(
    client: httpx.AsyncClient, accounts: Accounts, issuer: TokenIssuer
) -> None:
    token, headers = _cookie(issuer, accounts.yjcj)
    form: dict[str, Any] = {
        "csrf": csrf_token(token),
        "agent_name": "无此人",
        "agent_id_number": "530428199203151232",
        "actions": ["view"],
        "valid_from": today().isoformat(),
        "valid_until": today().isoformat(),
    }
    r = await client.post("/me/agents", data=form, headers=headers)
    assert r.status_code == 422 and "实名注册" in r.text


async def test_sign_up_page_refuses_a_bad_number_before_any_registry_call(client: httpx.AsyncClient) -> None:
    form = {
        "username": "wangwu",
        "password": "correct-horse-9",
        "name": "王五",
        "id_number": "530428199203151233",
        "mobile": "13900000003",
    }
    r = await client.post("/sign-up/person", data=form)
    assert r.status_code == 422 and "校验码错误" in r.text
    assert 'value="王五"' in r.text and "correct-horse-9" not in r.text
    r = await client.post("/sign-up/company", data={"credit_code": "91530428MA6K000016", "password": "x"})
    assert r.status_code == 422 and "请检查" in r.text
    r = await client.post("/sign-up/person", data=form, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403


async def test_sign_up_pages_render(client: httpx.AsyncClient) -> None:
    for path, heading in (
        ("/sign-up", "注册账户"),
        ("/sign-up/person", "个人注册"),
        ("/sign-up/company", "法人注册"),
    ):
        r = await client.get(path)
        assert r.status_code == 200 and f">{heading}</h1>" in r.text
