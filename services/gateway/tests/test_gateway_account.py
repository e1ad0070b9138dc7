"""账户: login, profile, real-name checks, demo data."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import httpx
import pytest
from gateway_support import Accounts, count, make_settings
from sqlalchemy import select

from yiwang_common.auth import TokenVerifier
from yiwang_common.db import session_scope
from yiwang_common.testing import ephemeral_auth
from yiwang_gateway.account.errors import InvalidIdNumber
from yiwang_gateway.account.models import Account
from yiwang_gateway.account.passwords import hash_password_sync, needs_rehash, verify_password
from yiwang_gateway.account.schemas import AccountCreate
from yiwang_gateway.account.service import account_service
from yiwang_gateway.demo import DEMO_ACCOUNTS, load_demo


class TestIssueToken:
    async def test_applicant_gets_verifiable_token_with_applicant_role(
        self, client: httpx.AsyncClient, accounts: Accounts
    ) -> None:
        r = await client.post("/api/v1/auth/token", json={"username": "zhangsan", "password": "demo123"})
        assert r.status_code == 200
        body = r.json()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == 300  # short-lived (ADR 0103); the refresh token renews it
        assert body["refresh_token"] and body["session_id"]
        assert body["principal"] == {
            "sub": str(accounts.zhangsan.id),
            "name": "张三",
            "kind": "natural_person",
            "roles": ["applicant"],
            "org_code": None,
            "region": None,
            "window": None,
        }
        principal = TokenVerifier(ephemeral_auth()).verify(body["access_token"])
        assert principal.sub == str(accounts.zhangsan.id)

    async def test_staff_token_carries_roles_and_org(
        self, client: httpx.AsyncClient, accounts: Accounts
    ) -> None:
        r = await client.post("/api/v1/auth/token", json={"username": "chuangkou", "password": "demo123"})
        assert r.status_code == 200
        assert r.json()["principal"]["kind"] == "staff"
        assert r.json()["principal"]["roles"] == ["acceptor"]
        assert r.json()["principal"]["org_code"] == "11530428015176456L"

    @pytest.mark.parametrize(("username", "password"), [("zhangsan", "wrong"), ("nobody", "demo123")])
    async def test_wrong_credentials_give_the_same_401(
        self, client: httpx.AsyncClient, accounts: Accounts, username: str, password: str
    ) -> None:
        r = await client.post("/api/v1/auth/token", json={"username": username, "password": password})
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "invalid_credentials"
        assert r.json()["title"] == "用户名或密码错误"

    @pytest.mark.parametrize("body", [{}, {"username": "zhangsan"}, {"username": "", "password": "x"}, []])
    async def test_malformed_body_is_422(self, client: httpx.AsyncClient, body: Any) -> None:
        r = await client.post("/api/v1/auth/token", json=body)
        assert r.status_code == 422
        assert r.json()["code"] == "validation_failed"


class TestMe:
    async def test_returns_own_profile_masked(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any
    ) -> None:
        r = await client.get("/api/v1/me", headers=auth(accounts.zhangsan))
        assert r.status_code == 200
        body = r.json()
        assert body["username"] == "zhangsan"
        assert body["name"] == "张三"
        assert body["id_type"] == "111"
        assert body["id_number_masked"] == "530428********1231"
        assert body["phone"] == "138****0001"

    async def test_without_token_is_401(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/api/v1/me")
        assert r.status_code == 401

    async def test_token_of_deleted_account_is_404(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, sessionmaker: Any
    ) -> None:
        headers = auth(accounts.lisi)
        async with session_scope(sessionmaker) as session:
            await session.delete(await session.get(Account, accounts.lisi.id))
        r = await client.get("/api/v1/me", headers=headers)
        assert r.status_code == 404
        assert r.json()["code"] == "account_not_found"


class TestPasswords:
    def test_hash_is_salted_argon2id_at_the_documented_cost(self) -> None:
        first, second = hash_password_sync("demo123"), hash_password_sync("demo123")
        assert first != second
        assert first.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert not needs_rehash(first)

    async def test_legacy_scrypt_hashes_still_verify_and_want_a_rehash(self) -> None:
        salt = b"0123456789abcdef"
        digest = hashlib.scrypt(b"demo123", salt=salt, n=2**14, r=8, p=1, dklen=32)
        legacy = f"scrypt$16384$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
        assert await verify_password("demo123", legacy)
        assert not await verify_password("demo124", legacy)
        assert needs_rehash(legacy)

    async def test_verify_accepts_right_and_refuses_wrong_or_garbage(self) -> None:
        stored = hash_password_sync("demo123")
        assert await verify_password("demo123", stored)
        assert not await verify_password("demo124", stored)
        assert not await verify_password("demo123", "not-a-hash")
        assert not await verify_password("demo123", None)


class TestAccountCreate:
    @pytest.mark.parametrize(
        ("kind", "id_number"),
        [
            ("natural_person", "530428199001011232"),
            ("legal_person", "91530428MA6K000016"),
            ("natural_person", None),
        ],
    )
    async def test_bad_check_digit_is_refused(
        self, sessionmaker: Any, kind: str, id_number: str | None
    ) -> None:
        create = AccountCreate(username="x", password="secret1", kind=kind, name="x", id_number=id_number)  # type: ignore[arg-type]
        with pytest.raises(InvalidIdNumber):
            async with session_scope(sessionmaker) as session:
                await account_service.create(session, account_create=create)
        assert await count(sessionmaker, "account") == 0


class TestLoadDemo:
    async def test_creates_every_demo_account_once(self, database_url: str, sessionmaker: Any) -> None:
        settings = make_settings(database_url)
        await load_demo(settings)
        await load_demo(settings)
        async with session_scope(sessionmaker) as session:
            rows = (await session.execute(select(Account))).scalars().all()
        assert sorted(a.username for a in rows) == sorted(a.username for a in DEMO_ACCOUNTS)
        by_name = {a.username: a for a in rows}
        assert by_name["yjcj"].kind == "legal_person" and by_name["yjcj"].id_type == "001"
        assert by_name["juece"].roles == ["approver"] and by_name["juece"].org_code == "11530428015176456L"
        assert by_name["zhangsan"].roles == ["applicant"]
