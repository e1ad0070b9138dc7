"""Management's post assignments reach the staff account: the next token carries the roles and unit."""

from __future__ import annotations

import uuid

import httpx
from gateway_support import Accounts
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.contracts.common import StaffPost
from yiwang_common.contracts.management import StaffAssigned
from yiwang_common.db import session_scope, utcnow
from yiwang_gateway.staff import service as staff_service

OTHER_UNIT = "11530428MB1234567F"


def assigned(
    username: str,
    version: int,
    roles: list[str],
    *,
    org: str = OTHER_UNIT,
    active: bool = True,
    region: str = "530428",
    posts: list[StaffPost] | None = None,
) -> StaffAssigned:
    return StaffAssigned(
        staff_id=uuid.UUID(int=7),
        username=username,
        name="窗口受理员",
        org_code=org,
        org_name="元江县市场监督管理局",
        region_code=region,
        roles=roles,
        posts=posts or [],
        active=active,
        version=version,
        changed_at=utcnow(),
        changed_by="admin",
    )


async def _token_principal(client: httpx.AsyncClient) -> dict[str, object]:
    r = await client.post("/api/v1/auth/token", json={"username": "chuangkou", "password": "demo123"})
    assert r.status_code == 200
    principal: dict[str, object] = r.json()["principal"]
    return principal


class TestStaffAssigned:
    async def test_next_token_carries_the_assigned_roles_and_unit(
        self, client: httpx.AsyncClient, accounts: Accounts, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        async with session_scope(sessionmaker) as session:
            assert await staff_service.apply_assignment(
                session, assigned("chuangkou", 2, ["reviewer", "receiver"])
            )
        principal = await _token_principal(client)
        assert principal["roles"] == ["receiver", "reviewer"]
        assert principal["org_code"] == OTHER_UNIT
        async with session_scope(sessionmaker) as session:
            stored = await staff_service.claims_for(session, "chuangkou")
        assert stored is not None and stored.region_code == "530428"

    async def test_next_token_carries_the_departments_region(
        self, client: httpx.AsyncClient, accounts: Accounts, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        # A region the unit's credit code does not name (530428): the claim comes from the assignment.
        async with session_scope(sessionmaker) as session:
            assert await staff_service.apply_assignment(
                session, assigned("chuangkou", 2, ["acceptor"], region="530402")
            )
        assert (await _token_principal(client))["region"] == "530402"

    async def test_next_token_names_the_window_post_held(
        self, client: httpx.AsyncClient, accounts: Accounts, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        # 窗口 (ADR 0122): the first window post by code; a back-office post names no window.
        posts = [
            StaffPost(post_id="p3", code="SC01", name="审查岗", kind="post", roles=["reviewer"]),
            StaffPost(post_id="p2", code="ZH07", name="综合受理7号窗口", kind="window", roles=["acceptor"]),
            StaffPost(post_id="p1", code="ZH03", name="综合受理3号窗口", kind="window", roles=["acceptor"]),
        ]
        async with session_scope(sessionmaker) as session:
            assert await staff_service.apply_assignment(
                session, assigned("chuangkou", 2, ["acceptor", "reviewer"], posts=posts)
            )
        token = (
            await client.post("/api/v1/auth/token", json={"username": "chuangkou", "password": "demo123"})
        ).json()
        assert token["principal"]["window"] == "ZH03"
        me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token['access_token']}"})
        assert me.status_code == 200
        async with session_scope(sessionmaker) as session:
            assert await staff_service.apply_assignment(
                session, assigned("chuangkou", 3, ["reviewer"], posts=posts[:1])
            )
        assert (await _token_principal(client)).get("window") is None

    async def test_an_older_version_changes_nothing(
        self, client: httpx.AsyncClient, accounts: Accounts, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        async with session_scope(sessionmaker) as session:
            assert await staff_service.apply_assignment(session, assigned("chuangkou", 5, ["approver"]))
        async with session_scope(sessionmaker) as session:
            assert not await staff_service.apply_assignment(session, assigned("chuangkou", 4, ["admin"]))
            assert not await staff_service.apply_assignment(session, assigned("chuangkou", 5, ["admin"]))
        assert (await _token_principal(client))["roles"] == ["approver"]

    async def test_roles_outside_the_staff_set_and_deactivation_give_no_role(
        self, client: httpx.AsyncClient, accounts: Accounts, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        async with session_scope(sessionmaker) as session:
            await staff_service.apply_assignment(
                session, assigned("chuangkou", 2, ["applicant", "acceptor", "root"])
            )
        assert (await _token_principal(client))["roles"] == ["acceptor"]


class TestDeactivation:
    async def test_a_deactivated_member_cannot_sign_in_and_their_refresh_tokens_die(
        self, client: httpx.AsyncClient, accounts: Accounts, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        async with session_scope(sessionmaker) as session:
            await staff_service.apply_assignment(session, assigned("chuangkou", 2, ["acceptor"]))
        signed_in = await client.post(
            "/api/v1/auth/token", json={"username": "chuangkou", "password": "demo123"}
        )
        assert signed_in.status_code == 200
        async with session_scope(sessionmaker) as session:
            await staff_service.apply_assignment(
                session, assigned("chuangkou", 3, ["acceptor"], active=False)
            )
        # 停用: the right password no longer signs in …
        again = await client.post("/api/v1/auth/token", json={"username": "chuangkou", "password": "demo123"})
        assert again.status_code == 401 and again.json()["code"] == "invalid_credentials"
        # … and the session opened before is over: its refresh token is refused, so the access
        # token handed out before dies within its lifetime.
        refreshed = await client.post(
            "/api/v1/auth/token",
            data={"grant_type": "refresh_token", "refresh_token": signed_in.json()["refresh_token"]},
        )
        assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
        # An older (replayed) active assignment does not bring the account back.
        async with session_scope(sessionmaker) as session:
            assert not await staff_service.apply_assignment(session, assigned("chuangkou", 2, ["acceptor"]))
        assert (
            await client.post("/api/v1/auth/token", json={"username": "chuangkou", "password": "demo123"})
        ).status_code == 401

    async def test_a_newer_active_assignment_restores_the_account(
        self, client: httpx.AsyncClient, accounts: Accounts, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        async with session_scope(sessionmaker) as session:
            await staff_service.apply_assignment(
                session, assigned("chuangkou", 2, ["acceptor"], active=False)
            )
        async with session_scope(sessionmaker) as session:
            await staff_service.apply_assignment(session, assigned("chuangkou", 3, ["reviewer"]))
        assert (await _token_principal(client))["roles"] == ["reviewer"]

    async def test_an_applicant_account_of_that_name_is_never_changed(
        self, client: httpx.AsyncClient, accounts: Accounts, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        async with session_scope(sessionmaker) as session:
            await staff_service.apply_assignment(session, assigned("zhangsan", 1, ["admin"]))
        r = await client.post("/api/v1/auth/token", json={"username": "zhangsan", "password": "demo123"})
        assert r.json()["principal"]["roles"] == ["applicant"]
