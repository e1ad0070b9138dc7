"""登录审计 Sign-ins and failed sign-ins reach the audit log: an audit event in the outbox of the
unit of work that opened the session (or counted the failure), so data-sharing keeps it (ADR 0105)."""

from __future__ import annotations

from typing import Any

import httpx
from gateway_support import Accounts
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.testing import outbox_events
from yiwang_gateway.db import messaging

AUDIT = "yiwang.gateway.audit.recorded.v1"


async def _audits(sessionmaker: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
    return [envelope["data"] for _, envelope in await outbox_events(sessionmaker, messaging.outbox, AUDIT)]


class TestSignInAudit:
    async def test_a_sign_in_is_recorded_with_who_when_where_and_how(
        self, client: httpx.AsyncClient, accounts: Accounts, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        r = await client.post("/api/v1/auth/token", json={"username": "zhangsan", "password": "demo123"})
        assert r.status_code == 200
        [audit] = await _audits(sessionmaker)
        assert audit["action"] == "sign_in" and audit["outcome"] == "success"
        assert audit["actor_id"] == r.json()["principal"]["sub"] == audit["target_id"]
        assert audit["target_type"] == "account" and audit["occurred_at"]
        assert audit["detail"]["method"] == "password" and audit["detail"]["client"] == "api"
        assert audit["detail"]["address"] == "127.0.0.1"

    async def test_a_failed_sign_in_is_recorded_without_the_password(
        self, client: httpx.AsyncClient, accounts: Accounts, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        r = await client.post("/api/v1/auth/token", json={"username": "zhangsan", "password": "wrong-guess"})
        assert r.status_code == 401
        r = await client.post("/api/v1/auth/token", json={"username": "nobody", "password": "wrong-guess"})
        assert r.status_code == 401
        audits = await _audits(sessionmaker)
        assert [(a["action"], a["outcome"], a["actor_name"], a["detail"]["reason"]) for a in audits] == [
            ("sign_in_failed", "failure", "zhangsan", "wrong_password"),
            ("sign_in_failed", "failure", "nobody", "unknown_account"),
        ]
        assert all(a["actor_id"] is None for a in audits)
        assert "wrong-guess" not in str(audits)

    async def test_a_wrong_sms_code_is_recorded_with_the_number_masked(
        self, client: httpx.AsyncClient, accounts: Accounts, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        r = await client.post(
            "/api/v1/auth/token",
            data={
                "grant_type": "urn:yiwang:params:oauth:grant-type:sms-code",
                "phone": "13900000001",
                "code": "000000",
            },
        )
        assert r.status_code == 401
        [audit] = await _audits(sessionmaker)
        assert audit["action"] == "sign_in_failed" and audit["detail"]["method"] == "sms_code"
        assert "13900000001" not in str(audit) and audit["actor_name"].startswith("139")

    async def test_the_console_sign_in_of_staff_is_recorded_too(
        self, client: httpx.AsyncClient, accounts: Accounts, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        r = await client.post(
            "/console/sign-in",
            data={"username": "chuangkou", "password": "demo123"},
            headers={"Origin": "http://test"},
        )
        assert r.status_code == 303, r.text
        [audit] = await _audits(sessionmaker)
        assert audit["action"] == "sign_in" and audit["actor_kind"] == "staff"
        assert audit["detail"]["client"] == "console"
