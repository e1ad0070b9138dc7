"""业务办理系统's staff pages (ADR 0115): 我的待办 with the step actions (办理, 退回, 转办, 挂起/恢复),
the 并联 view of a case (each branch's post and state) and each definition's diagram; the sign-in
cookie and the CSRF rules of ADR 0021."""

from __future__ import annotations

import re

import httpx
import pytest
from business_testkit import ADMIN, APPROVER, ITEM, OTHER_ORG, REVIEWER, TakeOver, token
from workflow_kit import PARALLEL, case, define, linear, step, the_task

from yiwang_common.staff_session import csrf_token

ACCEPTOR = token("acceptor", sub="shouli", name="受理员")
DELIVERER = token("deliverer", sub="songda", name="送达员")
APPLICANT = token("applicant", org=None, sub="zhangsan", name="张三")
THREE = linear(
    step("review", "审查"),
    step("survey", "现场踏勘"),
    step("decide", "决定", "approver", "decide"),
)
PREFIX = "/console/handle"


def _token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def _cookies(headers: dict[str, str]) -> dict[str, str]:
    return {"Cookie": f"yiwang_staff={_token(headers)}"}


async def page(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> httpx.Response:
    client.cookies.clear()
    return await client.get(PREFIX + path, headers=_cookies(headers))


async def form(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], data: dict[str, str], *, csrf: bool = True
) -> httpx.Response:
    client.cookies.clear()
    body = data | ({"csrf": csrf_token(_token(headers))} if csrf else {})
    return await client.post(PREFIX + path, data=body, headers=_cookies(headers))


def _branches(html: str) -> list[tuple[str, str, str, str]]:
    """(state class, step, post, state text) of each row of the 并联 table."""
    table = html[
        html.index('<table class="parallel"') : html.index("</table>", html.index('<table class="parallel"'))
    ]
    rows = re.findall(
        r'<tr class="branch-(\w+)">\s*<td>(?:<a [^>]*>)?([^<]+)(?:</a>)?</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>',
        table,
    )
    return [(a, b.strip(), c.strip(), d.strip()) for a, b, c, d in rows]


class TestSignIn:
    async def test_no_cookie_goes_to_the_one_sign_in_and_citizens_are_refused(
        self, client: httpx.AsyncClient
    ) -> None:
        client.cookies.clear()
        r = await client.get(PREFIX + "/")
        assert r.status_code == 303
        assert r.headers["location"].startswith("http://127.0.0.1:8000/console/sign-in?next=")
        r = await page(client, "/", APPLICANT)
        assert r.status_code == 403 and "无权操作" in r.text
        assert "default-src 'self'" in r.headers["content-security-policy"]


class TestMyTasks:
    async def test_complete_with_opinion_return_transfer_suspend_resume(
        self, client: httpx.AsyncClient, take_over: TakeOver
    ) -> None:
        await define(client, THREE)
        data = await take_over()
        r = await page(client, "/", REVIEWER)
        assert r.status_code == 200 and data.case_no in r.text and "审查岗" in r.text
        task = await the_task(client, REVIEWER, data.case_no)
        r = await page(client, f"/tasks/{task['id']}", REVIEWER)
        assert r.status_code == 200 and "提交办理" in r.text and "挂起（停止计时）" in r.text
        # Without the session's form token nothing happens (CSRF).
        r = await form(
            client,
            f"/tasks/{task['id']}/complete",
            REVIEWER,
            {"decision": "approve", "opinion": "同意"},
            csrf=False,
        )
        assert r.status_code == 400
        assert (await the_task(client, REVIEWER, data.case_no))["status"] == "open"
        r = await form(
            client,
            f"/tasks/{task['id']}/complete",
            REVIEWER,
            {"decision": "approve", "opinion": "材料齐全。"},
        )
        assert r.status_code == 303 and r.headers["location"].startswith(f"{PREFIX}/?done=")
        survey = await the_task(client, REVIEWER, data.case_no)
        assert survey["step_name"] == "现场踏勘"
        # 挂起: the step cannot complete (the API's 409 and message on the page), then 恢复.
        r = await form(
            client, f"/tasks/{survey['id']}/clock", REVIEWER, {"action": "suspend", "reason": "等待复函"}
        )
        assert r.status_code == 303
        assert (await case(client, REVIEWER, data.case_no))["clock"] == "suspended"
        r = await form(
            client, f"/tasks/{survey['id']}/complete", REVIEWER, {"decision": "approve", "opinion": "同意"}
        )
        assert r.status_code == 409 and 'id="action-error"' in r.text and "计时暂停中" in r.text
        assert "恢复计时" in r.text
        r = await form(
            client, f"/tasks/{survey['id']}/clock", REVIEWER, {"action": "resume", "reason": "已复函"}
        )
        assert r.status_code == 303
        assert (await case(client, REVIEWER, data.case_no))["clock"] is None
        # 退回 to the earlier step: its choices are the steps done so far and the applicant.
        r = await page(client, f"/tasks/{survey['id']}", REVIEWER)
        assert '<option value="review">审查</option>' in r.text and 'value="applicant"' in r.text
        r = await form(
            client, f"/tasks/{survey['id']}/return", REVIEWER, {"to": "review", "reason": "意见不完整"}
        )
        assert r.status_code == 303 and r.headers["location"] == f"{PREFIX}/cases/{data.case_no}"
        again = await the_task(client, REVIEWER, data.case_no)
        assert again["step_name"] == "审查"
        # 转办: a bad department code is the API's 422, shown on the page; a good one hands it over.
        r = await form(
            client, f"/tasks/{again['id']}/transfer", REVIEWER, {"org_code": "bad", "reason": "涉及消防"}
        )
        assert r.status_code == 422 and 'id="action-error"' in r.text
        r = await form(
            client, f"/tasks/{again['id']}/transfer", REVIEWER, {"org_code": OTHER_ORG, "reason": "涉及消防"}
        )
        assert r.status_code == 303
        r = await page(client, "/", REVIEWER)
        assert data.case_no not in r.text
        r = await page(client, f"/cases/{data.case_no}", REVIEWER)
        log = r.text[r.text.index('<ol class="log">') :]
        assert [a for a in ("挂起", "恢复", "退回", "转办") if f"：{a} — " in log] == [
            "挂起",
            "恢复",
            "退回",
            "转办",
        ]

    async def test_someone_elses_task_is_not_found(
        self, client: httpx.AsyncClient, take_over: TakeOver
    ) -> None:
        await define(client, THREE)
        data = await take_over()
        task = await the_task(client, REVIEWER, data.case_no)
        other = token("reviewer", org=OTHER_ORG, sub="other", name="他人")
        assert (await page(client, f"/tasks/{task['id']}", other)).status_code == 404
        r = await form(
            client, f"/tasks/{task['id']}/complete", other, {"decision": "approve", "opinion": "同意"}
        )
        assert r.status_code == 404
        assert (await the_task(client, REVIEWER, data.case_no))["status"] == "open"


class TestParallelView:
    async def test_each_branch_with_its_post_and_state(
        self, client: httpx.AsyncClient, take_over: TakeOver
    ) -> None:
        await define(client, PARALLEL)
        data = await take_over()
        planning = await the_task(client, REVIEWER, data.case_no)
        r = await page(client, f"/cases/{data.case_no}", REVIEWER)
        assert r.status_code == 200 and "并联办理" in r.text
        assert _branches(r.text) == [
            ("open", "规划审查", "审查岗", "待办"),
            ("open", "消防审查", "受理岗", "待办"),
            ("open", "安全审查", "送达岗", "待办"),
        ]
        await form(
            client,
            f"/tasks/{planning['id']}/complete",
            REVIEWER,
            {"decision": "approve", "opinion": "符合规划。"},
        )
        fire = await the_task(client, ACCEPTOR, data.case_no)
        await form(
            client,
            f"/tasks/{fire['id']}/complete",
            ACCEPTOR,
            {"decision": "approve", "opinion": "消防合格。"},
        )
        r = await page(client, f"/cases/{data.case_no}", REVIEWER)
        assert [(b[0], b[1], b[3]) for b in _branches(r.text)] == [
            ("done", "规划审查", "已办"),
            ("done", "消防审查", "已办"),
            ("open", "安全审查", "待办"),
        ]
        assert "符合规划。" in r.text
        # The join waits for the last branch: no 决定 yet.
        assert (await client.get("/api/v1/tasks", headers=APPROVER)).json()["items"] == []


class TestDiagrams:
    async def test_each_definition_is_drawn(self, client: httpx.AsyncClient) -> None:
        await define(client, PARALLEL)
        r = await page(client, "/workflows", REVIEWER)
        assert r.status_code == 200 and f'href="{PREFIX}/workflows/{ITEM}"' in r.text
        r = await page(client, f"/workflows/{ITEM}", REVIEWER)
        assert r.status_code == 200
        srcs = re.findall(r'<img src="([^"]+)"', r.text)
        assert f"{PREFIX}/workflows/{ITEM}/diagram.svg" in srcs
        assert f"{PREFIX}/workflows/{ITEM}/versions/1/diagram.svg" in srcs
        for src in srcs:
            client.cookies.clear()
            svg = await client.get(src, headers=_cookies(REVIEWER))
            assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
            assert svg.text.lstrip().startswith("<svg") and "规划审查" in svg.text
        # The built-in default too, and an unknown version is the friendly 404 page.
        r = await page(client, "/workflows/*", REVIEWER)
        assert r.status_code == 200 and "默认流程" in r.text
        r = await page(client, f"/workflows/{ITEM}/versions/99/diagram.svg", REVIEWER)
        assert r.status_code == 404 and "<html" in r.text

    @pytest.mark.parametrize("path", ["/workflows/bad%20code", "/tasks/not-a-uuid", "/cases/x!y"])
    async def test_bad_paths_are_a_page_not_a_trace(self, client: httpx.AsyncClient, path: str) -> None:
        r = await page(client, path, ADMIN)
        assert r.status_code in (404, 422) and "<html" in r.text
