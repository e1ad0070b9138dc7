"""Post assignment → token, over real NATS JetStream: an administrator gives a staff member posts in
management; the gateway's next token for that account carries the roles and unit, and the audit log
in data-sharing records each permission change for the supervisors of the region.

The three services run in-process with their workers (outbox relay, consumers) on their own databases.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NatsClient

import yiwang_datasharing
import yiwang_gateway
import yiwang_management
from yiwang_common.auth import Principal
from yiwang_common.checkdigits import uscc_check
from yiwang_common.config import DatabaseSettings
from yiwang_common.db import session_scope
from yiwang_common.migrations import upgrade_database
from yiwang_common.testing import (
    bearer,
    create_database,
    drop_database,
    ephemeral_auth,
    fresh_streams,
    nats_url,
)
from yiwang_datasharing.config import Settings as DataSharingSettings
from yiwang_datasharing.main import create_app as create_datasharing
from yiwang_gateway.account.models import Account
from yiwang_gateway.account.passwords import hash_password_sync
from yiwang_gateway.config import Settings as GatewaySettings
from yiwang_gateway.main import create_app as create_gateway
from yiwang_management.config import Settings as ManagementSettings
from yiwang_management.main import create_app as create_management

HOUSING = "11530428" + "000000001"
HOUSING += uscc_check(HOUSING)
ADMIN = Principal(
    sub="gly-sheng", name="省中心管理员", kind="staff", roles=frozenset({"admin"}), region="530000"
)
SUPERVISOR = Principal(
    sub="jc-yj", name="元江监察", kind="staff", roles=frozenset({"supervisor"}), region="530428"
)


@pytest.fixture
async def nc(nc: NatsClient) -> NatsClient:
    await fresh_streams(nc.jetstream(), "management", "gateway", "datasharing", "business")
    return nc


async def _database(service: str, package: Any) -> str:
    url = await create_database(f"yiwang_test_staff_{service}")
    await upgrade_database(
        DatabaseSettings(url=url, schema_name=service), Path(package.__file__).parent / "migrations"
    )
    return url


@pytest.fixture
async def apps(nc: NatsClient) -> AsyncIterator[dict[str, Any]]:
    urls = {
        "management": await _database("management", yiwang_management),
        "gateway": await _database("gateway", yiwang_gateway),
        "datasharing": await _database("datasharing", yiwang_datasharing),
    }
    common: dict[str, Any] = {"nats": {"url": nats_url()}, "run_workers": True, "auth": ephemeral_auth()}
    management = create_management(
        ManagementSettings(database=DatabaseSettings(url=urls["management"]), **common)
    )
    gateway = create_gateway(
        GatewaySettings(database={"url": urls["gateway"], "schema_name": "gateway"}, env="test", **common)
    )
    datasharing = create_datasharing(
        DataSharingSettings(
            database={"url": urls["datasharing"], "schema_name": "datasharing"},
            blob_dir=Path(tempfile.mkdtemp(prefix="yiwang-staff-flow-")),
            **common,
        )
    )
    try:
        async with (
            management.router.lifespan_context(management),
            gateway.router.lifespan_context(gateway),
            datasharing.router.lifespan_context(datasharing),
        ):
            async with session_scope(gateway.state.sessionmaker) as session:
                session.add(
                    Account(
                        id=uuid.uuid4(),
                        username="yj_li",
                        password_hash=hash_password_sync("demo123"),
                        kind="staff",
                        name="李娜",
                        roles=[],
                        active=True,
                    )
                )
            clients = {
                name: httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url=f"http://{name}/api/v1"
                )
                for name, app in (
                    ("management", management),
                    ("gateway", gateway),
                    ("datasharing", datasharing),
                )
            }
            try:
                yield clients
            finally:
                for client in clients.values():
                    await client.aclose()
    finally:
        for url in urls.values():
            await drop_database(url)


async def _wait(predicate: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "the change did not arrive in time"
        await asyncio.sleep(0.1)


async def _token(gateway: httpx.AsyncClient) -> dict[str, Any]:
    r = await gateway.post("/auth/token", json={"username": "yj_li", "password": "demo123"})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


class TestPostAssignmentReachesTheToken:
    async def test_assign_reassign_and_audit(self, apps: dict[str, httpx.AsyncClient]) -> None:
        m, g, d = apps["management"], apps["gateway"], apps["datasharing"]
        admin = bearer(ADMIN)
        for code, name in (("530000", "云南省"), ("530400", "玉溪市"), ("530428", "元江县")):
            assert (
                await m.post("/organisation/regions", json={"code": code, "name": name}, headers=admin)
            ).status_code == 201
        dept = {"org_code": HOUSING, "name": "元江县住建局", "region_code": "530428", "level": "4"}
        assert (await m.post("/organisation/departments", json=dept, headers=admin)).status_code == 201
        posts = {}
        for code, kind, roles in (
            ("SL01", "window", ["receiver", "acceptor"]),
            ("SC01", "post", ["reviewer"]),
        ):
            r = await m.post(
                f"/organisation/departments/{HOUSING}/posts",
                json={"code": code, "name": code, "kind": kind, "roles": roles},
                headers=admin,
            )
            posts[code] = r.json()["id"]
        assert (await _token(g))["principal"]["roles"] == []
        r = await m.post(
            "/organisation/staff",
            json={"username": "yj_li", "name": "李娜", "org_code": HOUSING, "post_ids": [posts["SL01"]]},
            headers=admin,
        )
        assert r.status_code == 201, r.text
        staff_id = r.json()["id"]

        async def window_roles() -> bool:
            return (await _token(g))["principal"]["roles"] == ["acceptor", "receiver"]

        await _wait(window_roles)
        issued = await _token(g)
        assert issued["principal"]["org_code"] == HOUSING
        # The gateway's own token, verified by management: the new acceptor reads the unit's cases.
        cases = await m.get("/cases", headers={"Authorization": f"Bearer {issued['access_token']}"})
        assert cases.status_code == 200
        r = await m.put(
            f"/organisation/staff/{staff_id}/posts", json={"post_ids": [posts["SC01"]]}, headers=admin
        )
        assert r.status_code == 200

        async def reviewer_only() -> bool:
            return (await _token(g))["principal"]["roles"] == ["reviewer"]

        await _wait(reviewer_only)
        stale = await m.post(
            "/cases/53042820261123000001E/accept",
            json={},
            headers={"Authorization": f"Bearer {(await _token(g))['access_token']}"},
        )
        assert stale.status_code == 403

        async def audited() -> bool:
            r = await d.get(
                "/audit-entries",
                params={"action": "permission_changed", "target_id": staff_id},
                headers=bearer(SUPERVISOR),
            )
            return r.status_code == 200 and len(r.json()["items"]) == 2

        await _wait(audited)
        r = await d.get("/audit-entries", params={"target_id": staff_id}, headers=bearer(SUPERVISOR))
        newest = r.json()["items"][0]
        assert newest["service"] == "management" and newest["actor_id"] == ADMIN.sub
        assert newest["detail"]["roles"] == ["reviewer"]


class TestSignInAuditAndDeactivation:
    async def test_sign_ins_reach_the_audit_log_and_a_deactivated_member_is_locked_out(
        self, apps: dict[str, httpx.AsyncClient]
    ) -> None:
        m, g, d = apps["management"], apps["gateway"], apps["datasharing"]
        admin = bearer(ADMIN)
        for code, name in (("530000", "云南省"), ("530400", "玉溪市"), ("530428", "元江县")):
            await m.post("/organisation/regions", json={"code": code, "name": name}, headers=admin)
        dept = {"org_code": HOUSING, "name": "元江县住建局", "region_code": "530428", "level": "4"}
        assert (await m.post("/organisation/departments", json=dept, headers=admin)).status_code == 201
        post = await m.post(
            f"/organisation/departments/{HOUSING}/posts",
            json={"code": "SL01", "name": "受理窗口", "kind": "window", "roles": ["acceptor"]},
            headers=admin,
        )
        r = await m.post(
            "/organisation/staff",
            json={"username": "yj_li", "name": "李娜", "org_code": HOUSING, "post_ids": [post.json()["id"]]},
            headers=admin,
        )
        staff_id = r.json()["id"]

        async def acceptor() -> bool:
            return (await _token(g))["principal"]["roles"] == ["acceptor"]

        await _wait(acceptor)
        before = await _token(g)
        wrong = await g.post("/auth/token", json={"username": "yj_li", "password": "not-it"})
        assert wrong.status_code == 401

        # 登录审计: the sign-ins and the failed one, in data-sharing's append-only log.
        async def audited(action: str, count: int) -> bool:
            r = await d.get("/audit-entries", params={"action": action}, headers=bearer(SUPERVISOR))
            return r.status_code == 200 and len(r.json()["items"]) >= count

        await _wait(lambda: audited("sign_in_failed", 1))
        await _wait(lambda: audited("sign_in", 2))
        entries = (
            await d.get("/audit-entries", params={"action": "sign_in_failed"}, headers=bearer(SUPERVISOR))
        ).json()["items"]
        failed = entries[0]
        assert failed["service"] == "gateway" and failed["outcome"] == "failure"
        assert failed["actor_name"] == "yj_li" and failed["detail"]["reason"] == "wrong_password"
        assert "not-it" not in str(entries)
        signed = (
            await d.get("/audit-entries", params={"action": "sign_in"}, headers=bearer(SUPERVISOR))
        ).json()["items"][0]
        assert signed["actor_id"] == before["principal"]["sub"] and signed["detail"]["method"] == "password"

        # 停用: the administrator deactivates the member; the gateway hears of it over the bus.
        assert (await m.delete(f"/organisation/staff/{staff_id}", headers=admin)).status_code == 200

        async def locked_out() -> bool:
            r = await g.post("/auth/token", json={"username": "yj_li", "password": "demo123"})
            return r.status_code == 401

        await _wait(locked_out)
        refreshed = await g.post(
            "/auth/token", data={"grant_type": "refresh_token", "refresh_token": before["refresh_token"]}
        )
        assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
