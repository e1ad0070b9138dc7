"""Staff console pages (/console/manage): the staff cookie, CSRF, the draft form through the one
schema and service, workflow buttons per role, and the import's row errors on a page."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from management_factories import ACCEPTOR, ITEM_CODE, OTHER_ACCEPTOR, auth

from yiwang_common.auth import Principal
from yiwang_common.staff_session import COOKIE_NAME, csrf_token
from yiwang_common.testing import token_issuer
from yiwang_management.catalogue.demo import from_item
from yiwang_management.demo_items import demo_items

CENTRE = Principal(sub="centre", name="中心管理员", kind="staff", roles=frozenset({"admin"}), org_code="X")
CONSTRUCTION = from_item(demo_items()[0])
PAGE = f"/console/manage/items/{ITEM_CODE}/versions/1"
ORIGIN = "http://test"


@pytest.fixture
async def draft(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/catalogue/entries", json=CONSTRUCTION.entry.model_dump(mode="json"), headers=auth(CENTRE)
    )
    assert r.status_code == 201, r.text
    body = {"item_code": ITEM_CODE, "content": CONSTRUCTION.content.model_dump(mode="json")}
    r = await client.post("/catalogue/items", json=body, headers=auth(ACCEPTOR))
    assert r.status_code == 201, r.text


class Console:
    """A browser of one staff member: the cookie the gateway set, the token the pages show."""

    def __init__(self, app: FastAPI, principal: Principal | None) -> None:
        self.token = token_issuer().issue(principal) if principal else ""
        cookies = {COOKIE_NAME: self.token} if principal else {}
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=ORIGIN, cookies=cookies
        )

    @property
    def csrf(self) -> str:
        return csrf_token(self.token)

    async def post(self, path: str, data: dict[str, Any], **kw: Any) -> httpx.Response:
        return await self.http.post(path, data=data, **kw)


@pytest.fixture
async def as_staff(app: FastAPI) -> AsyncIterator[Any]:
    made: list[Console] = []

    def make(principal: Principal | None) -> Console:
        made.append(Console(app, principal))
        return made[-1]

    yield make
    for console in made:
        await console.http.aclose()


async def _content(client: httpx.AsyncClient) -> dict[str, Any]:
    r = await client.get(f"/catalogue/items/{ITEM_CODE}/versions/1", headers=auth(ACCEPTOR))
    assert r.status_code == 200, r.text
    content: dict[str, Any] = r.json()["content"]
    return content


def _form(console: Console, **changes: str) -> dict[str, str]:
    content = CONSTRUCTION.content
    return {
        "csrf": console.csrf,
        "statutory_limit_days": str(content.statutory_limit_days),
        "promised_limit_days": str(content.promised_limit_days),
        "conditions": "\n".join(content.conditions),
        "materials": "\n".join(m.name for m in content.materials),
        **changes,
    }


async def test_without_a_valid_cookie_the_console_sends_to_the_one_sign_in(as_staff: Any) -> None:
    anonymous, forged = as_staff(None), as_staff(None)
    forged.http.cookies.set(COOKIE_NAME, "eyJhbGciOiJFZERTQSJ9.e30.AAAA")
    for console in (anonymous, forged):
        r = await console.http.get("/console/manage/")
        assert r.status_code == 303
        # The sign-in page comes back here once it has signed in (or refreshed) the session.
        assert r.headers["location"] == "http://127.0.0.1:8000/console/sign-in?" + urlencode(
            {"next": str(r.request.url)}
        )


async def test_list_page_shows_the_bodys_versions_with_the_console_headers(
    draft: None, as_staff: Any
) -> None:
    r = await as_staff(ACCEPTOR).http.get("/console/manage/", params={"status": "draft"})
    assert r.status_code == 200, r.text
    assert "建筑工程施工许可证核发" in r.text and "草稿" in r.text
    assert "form-action 'self' http://127.0.0.1:8000" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    # Another body's staff see none of it.
    other = await as_staff(OTHER_ACCEPTOR).http.get("/console/manage/")
    assert "建筑工程施工许可证核发" not in other.text and "共 0 个版本" in other.text


async def test_edit_without_the_form_token_or_from_another_origin_changes_nothing(
    draft: None, as_staff: Any, client: httpx.AsyncClient
) -> None:
    console = as_staff(ACCEPTOR)
    before = await _content(client)
    no_token = _form(console, promised_limit_days="3") | {"csrf": "0" * 64}
    r = await console.post(PAGE + "/edit", no_token)
    assert r.status_code == 400 and "表单已过期" in r.text
    r = await console.post(
        PAGE + "/edit", _form(console, promised_limit_days="3"), headers={"Origin": "http://evil.example"}
    )
    assert r.status_code == 400
    assert await _content(client) == before


async def test_edit_goes_through_the_schema_and_keeps_material_attributes(
    draft: None, as_staff: Any, client: httpx.AsyncClient
) -> None:
    console = as_staff(ACCEPTOR)
    before = await _content(client)
    r = await console.post(PAGE + "/edit", _form(console, promised_limit_days="-1"))
    assert r.status_code == 422 and "承诺办结时限" in r.text
    assert await _content(client) == before

    names = [m["name"] for m in before["materials"]]
    form = _form(console, promised_limit_days="7", materials="\n".join([*names[:-1], "新增的补充说明"]))
    r = await console.post(PAGE + "/edit", form, headers={"Origin": ORIGIN})
    assert r.status_code == 303, r.text
    after = await _content(client)
    assert after["promised_limit_days"] == 7
    assert after["materials"][: len(names) - 1] == before["materials"][: len(names) - 1]
    assert after["materials"][-1]["name"] == "新增的补充说明"
    assert after["materials"][-1]["code"] not in {m["code"] for m in before["materials"][:-1]}


async def test_buttons_follow_role_and_state_and_the_service_still_decides(
    draft: None, as_staff: Any, client: httpx.AsyncClient
) -> None:
    owner, centre = as_staff(ACCEPTOR), as_staff(CENTRE)
    page = (await owner.http.get(PAGE)).text
    assert "提交审核" in page and "保存草稿" in page and "审核通过" not in page
    page = (await centre.http.get(PAGE)).text
    assert "提交审核" not in page and "保存草稿" not in page

    # The centre may not submit another body's draft, whatever the page shows.
    r = await centre.post(PAGE + "/submit", {"csrf": centre.csrf})
    assert r.status_code == 403
    r = await owner.post(PAGE + "/submit", {"csrf": owner.csrf})
    assert r.status_code == 303
    page = (await centre.http.get(PAGE)).text
    assert "审核通过" in page and "退回修改" in page
    r = await centre.post(PAGE + "/approve", {"csrf": centre.csrf})
    assert r.status_code == 303
    r = await centre.post(PAGE + "/publish", {"csrf": centre.csrf})
    assert r.status_code == 303
    r = await client.get(f"/catalogue/items/{ITEM_CODE}/versions/1", headers=auth(CENTRE))
    assert r.json()["status"] == "published"


async def test_import_page_lists_row_errors_and_imports_nothing(
    as_staff: Any, client: httpx.AsyncClient
) -> None:
    centre = as_staff(CENTRE)
    template = await client.get("/catalogue/template.csv")
    header = template.content.decode("utf-8-sig").splitlines()[0]
    columns = header.split(",")
    row = dict.fromkeys(columns, "")
    row |= {
        "实施编码": "X",
        "基本编码": "000109099000",
        "事项名称": "城镇污水排入排水管网许可",
        "行政区划代码": "999999",
    }
    body = (header + "\n" + ",".join(row[c] for c in columns) + "\n").encode()
    files = {"file": ("清单.csv", body, "text/csv")}
    r = await centre.http.post("/console/manage/imports", data={"csrf": centre.csrf}, files=files)
    assert r.status_code == 303, r.text
    job_url = r.headers["location"]
    r = await _finished_job_page(centre, job_url)
    job = r.text[r.text.find("导入任务") :]
    assert "逐行错误" in job and "未导入任何内容" in job, job
    assert "<td>实施清单</td><td>2</td><td>事项类型</td><td>必填项为空</td>" in job
    versions = await client.get("/catalogue/versions", headers=auth(CENTRE))
    assert versions.json()["items"] == []
    # The same upload from htmx answers the fragment in place, polling the job, and its address.
    r = await centre.http.post(
        "/console/manage/imports", data={"csrf": centre.csrf}, files=files, headers={"HX-Request": "true"}
    )
    assert r.status_code == 200 and "<html" not in r.text
    assert 'hx-trigger="every 1s"' in r.text and "刷新查看进度" in r.text, r.text
    assert r.headers["hx-push-url"].startswith("/console/manage/imports/")
    fragment = await _finished_job_page(centre, r.headers["hx-push-url"], htmx=True)
    assert "<html" not in fragment.text and "逐行错误" in fragment.text
    assert "hx-trigger" not in fragment.text, "a finished job is not polled any more"


async def _finished_job_page(staff: Any, url: str, *, htmx: bool = False) -> httpx.Response:
    """The job page once the background import has ended (it stops polling then)."""
    headers = {"HX-Request": "true"} if htmx else {}
    for _ in range(600):
        r = await staff.http.get(url, headers=headers)
        assert r.status_code == 200, r.text
        if "hx-trigger" not in r.text:
            return r
        assert "正在" in r.text or "排队" in r.text, r.text
        await asyncio.sleep(0.05)
    raise AssertionError(f"import job never finished: {url}")
