"""Staff administration pages (/console/manage/staff, /organisation): an administrator adds a post,
a staff member and assigns posts through the forms (CSRF as every console form); others may not."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from test_console_pages import Console
from test_organisation import COUNTY_ADMIN, HOUSING, PROVINCE_ADMIN, SUPERVISOR, post

from yiwang_common.auth import Principal
from yiwang_common.db import session_scope
from yiwang_common.testing import bearer, outbox_events
from yiwang_management.db import messaging


@pytest.fixture(autouse=True)
async def _clean_tree(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with session_scope(sessionmaker) as session:
        await session.execute(
            text("TRUNCATE staff_post, staff_member, org_post, org_department, org_region, outbox CASCADE")
        )


@pytest.fixture
async def department(client: httpx.AsyncClient) -> None:
    for code, name in (("530000", "云南省"), ("530400", "玉溪市"), ("530428", "元江县")):
        assert (
            await post(client, PROVINCE_ADMIN, "/organisation/regions", {"code": code, "name": name})
        ).status_code == 201
    body = {"org_code": HOUSING, "name": "元江县住建局", "region_code": "530428", "level": "4"}
    assert (await post(client, PROVINCE_ADMIN, "/organisation/departments", body)).status_code == 201


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[Any]:
    made: list[Console] = []

    def make(principal: Principal) -> Console:
        made.append(Console(app, principal))
        return made[-1]

    yield make
    for console in made:
        await console.http.aclose()


async def test_admin_adds_a_post_a_staff_member_and_assigns_posts(
    browser: Any, department: None, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = browser(COUNTY_ADMIN)
    page = await admin.http.get("/console/manage/organisation")
    assert page.status_code == 200 and "元江县住建局" in page.text
    r = await admin.post(
        f"/console/manage/organisation/departments/{HOUSING}/posts",
        {
            "csrf": admin.csrf,
            "code": "SL01",
            "name": "综合受理窗口",
            "kind": "window",
            "role": ["receiver", "acceptor"],
        },
    )
    assert r.status_code == 303
    r = await admin.post(
        "/console/manage/staff",
        {"csrf": admin.csrf, "username": "yj_li", "name": "李娜", "org_code": HOUSING},
    )
    assert r.status_code == 303
    detail_url = r.headers["location"]
    detail = await admin.http.get(detail_url)
    (post_id,) = re.findall(r'name="post_id" type="checkbox" value="([0-9a-f-]{36})"', detail.text)
    r = await admin.post(f"{detail_url}/posts", {"csrf": admin.csrf, "post_id": [post_id]})
    assert r.status_code == 303
    listed = await admin.http.get("/console/manage/staff")
    assert "李娜" in listed.text and "受理人" in listed.text and "收件人" in listed.text
    assigned = await outbox_events(sessionmaker, messaging.outbox, "yiwang.management.staff.assigned.v1")
    assert [e["data"]["roles"] for _, e in assigned] == [[], ["acceptor", "receiver"]]


async def test_admin_deactivates_a_staff_member_from_their_page(
    browser: Any, department: None, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = browser(COUNTY_ADMIN)
    r = await admin.post(
        "/console/manage/staff",
        {"csrf": admin.csrf, "username": "yj_wang", "name": "王芳", "org_code": HOUSING},
    )
    detail_url = r.headers["location"]
    page = await admin.http.get(detail_url)
    assert "停用该工作人员" in page.text and "在岗" in page.text
    # Without the session's CSRF token nothing happens.
    assert (await admin.post(f"{detail_url}/deactivate", {"csrf": "0" * 64})).status_code == 400
    r = await admin.post(f"{detail_url}/deactivate", {"csrf": admin.csrf})
    assert r.status_code == 303 and r.headers["location"] == detail_url
    page = await admin.http.get(detail_url)
    assert "已停用" in page.text and "停用该工作人员" not in page.text and "保存岗位" not in page.text
    assigned = await outbox_events(sessionmaker, messaging.outbox, "yiwang.management.staff.assigned.v1")
    assert [(e["data"]["active"], e["data"]["roles"]) for _, e in assigned][-1] == (False, [])
    # A supervisor sees the page but cannot deactivate anyone.
    supervisor = browser(SUPERVISOR)
    assert (await supervisor.post(f"{detail_url}/deactivate", {"csrf": supervisor.csrf})).status_code == 403


async def test_forms_without_the_session_token_or_from_another_origin_change_nothing(
    browser: Any, department: None, client: httpx.AsyncClient
) -> None:
    admin = browser(COUNTY_ADMIN)
    r = await admin.post(
        "/console/manage/staff", {"csrf": "0" * 64, "username": "x1", "name": "x", "org_code": HOUSING}
    )
    assert r.status_code == 400
    r = await admin.post(
        "/console/manage/staff",
        {"csrf": admin.csrf, "username": "x2", "name": "x", "org_code": HOUSING},
        headers={"Origin": "https://evil.example"},
    )
    assert r.status_code == 400
    assert (await client.get("/organisation/staff", headers=bearer(COUNTY_ADMIN))).json()["items"] == []


async def test_supervisors_read_only_and_handling_staff_not_at_all(browser: Any, department: None) -> None:
    supervisor = browser(SUPERVISOR)
    page = await supervisor.http.get("/console/manage/staff")
    assert page.status_code == 200 and "新建工作人员" not in page.text
    r = await supervisor.post(
        "/console/manage/staff", {"csrf": supervisor.csrf, "username": "x", "name": "x", "org_code": HOUSING}
    )
    assert r.status_code == 403
    acceptor = browser(
        Principal(
            sub="ck",
            name="窗口",
            kind="staff",
            roles=frozenset({"acceptor"}),
            org_code=HOUSING,
            region="530428",
        )
    )
    assert (await acceptor.http.get("/console/manage/staff")).status_code == 403


async def test_bad_form_input_is_a_4xx_page(browser: Any, department: None) -> None:
    admin = browser(COUNTY_ADMIN)
    r = await admin.post(
        "/console/manage/staff",
        {"csrf": admin.csrf, "username": "bad name!", "name": "x", "org_code": HOUSING},
    )
    assert r.status_code == 422
    r = await admin.post(
        f"/console/manage/organisation/departments/{HOUSING}/posts",
        {"csrf": admin.csrf, "code": "P1", "name": "岗", "kind": "window"},
    )
    assert r.status_code == 422
