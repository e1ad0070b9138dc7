"""部署模式 as real processes (ADR 0114): the launcher starts a province and a city platform, each
its own database, NATS server, loopback address, key and issuer, wired for the mode; a citizen of
one signs in at the other over real HTTP between the processes.

Only the gateways run (sign-in is theirs); `make dev PLATFORMS=…` starts every service the same way.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from scripts.stack import BY_NAME, SERVICES, Stack, free_port, parse_platforms, platform_stacks
from yiwang_common.testing import create_database, drop_database

GATEWAY = BY_NAME["gateway"]


def _free_ports(_: object) -> dict[str, int]:
    return {svc.name: free_port() for svc in SERVICES}


Launch = Callable[..., dict[str, Stack]]


@pytest.fixture
def launch() -> Iterator[Launch]:
    started: list[Stack] = []
    server = asyncio.run(create_database("yiwang_e2e_platforms"))
    var_dir = Path(tempfile.mkdtemp(prefix="yiwang-platforms-"))

    def start(spec: str, mode: str, *, demo: tuple[str, ...]) -> dict[str, Stack]:
        platforms = parse_platforms(spec, mode)
        stacks = platform_stacks(platforms, var_dir, server, ports=_free_ports)
        for platform, stack in zip(platforms, stacks, strict=True):
            started.append(stack)
            stack.ensure_nats(free_port())
            stack.run_cli(GATEWAY, "migrate")
            if platform.name in demo:
                stack.run_cli(GATEWAY, "load-demo")
            stack.start_service("gateway")
        for stack in stacks:
            stack.wait_ready(["gateway"])
        return {p.name: s for p, s in zip(platforms, stacks, strict=True)}

    try:
        yield start
    finally:
        for stack in started:
            stack.stop()
        for stack in started:
            if stack.database_url:
                asyncio.run(drop_database(stack.database_url))
        asyncio.run(drop_database(server))
        shutil.rmtree(var_dir, ignore_errors=True)


def test_semi_unified_a_city_portal_signs_in_through_the_province(launch: Launch) -> None:
    stacks = launch("province=530000,city=530400", "统分", demo=("province",))
    province, city = stacks["province"].url("gateway"), stacks["city"].url("gateway")
    assert urlsplit(province).hostname == "127.0.0.1" and urlsplit(city).hostname == "127.0.0.2"
    with httpx.Client(follow_redirects=False, timeout=30) as b:
        start = b.get(city + "/sign-in/oidc", params={"next": "/me"})
        authorize = start.headers["location"]
        assert authorize.startswith(province + "/authorize?")
        to_sign_in = b.get(authorize)
        next_path = parse_qs(urlsplit(to_sign_in.headers["location"]).query)["next"][0]
        signed_in = b.post(
            province + "/sign-in/password",
            data={"username": "zhangsan", "password": "demo123", "next": next_path},
            headers={"Origin": province},
        )
        assert signed_in.status_code == 303
        back = b.get(province + signed_in.headers["location"])
        assert back.headers["location"].startswith(city + "/sign-in/oidc/callback?code=")
        arrived = b.get(back.headers["location"])
        assert arrived.status_code == 303, arrived.text
        token = b.cookies.get("yiwang_session", domain="127.0.0.2")
    assert token
    mine = httpx.get(city + "/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert mine.status_code == 200 and mine.json()["name"] == "张三"
    # The city's token is the city's: the province does not take it.
    assert httpx.get(province + "/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_split_a_provinces_citizen_signs_in_at_the_city(launch: Launch) -> None:
    stacks = launch("province=530000,city=530400", "分建", demo=("province",))
    city = stacks["city"].url("gateway")
    r = httpx.post(
        city + "/api/v1/auth/token",
        data={"grant_type": "password", "username": "zhangsan", "password": "demo123"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["principal"]["name"] == "张三"
    wrong = httpx.post(
        city + "/api/v1/auth/token", data={"grant_type": "password", "username": "zhangsan", "password": "x"}
    )
    assert wrong.status_code == 401
