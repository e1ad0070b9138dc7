"""The patterns staff use, on real PostgreSQL and real NATS: each event is read back from the bus.

并联 with a join, 排他 branches on form data, 主办/协办, 退回 (to a step, to the applicant), 转办, 催办,
挂起/恢复, 撤回, 特殊程序 and the step timers.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any

import httpx
from business_testkit import (
    ADMIN,
    APPROVER,
    ORG,
    OTHER_ORG,
    REVIEWER,
    TakeOver,
    accepted,
    counts,
    scalar,
    token,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from workflow_kit import APPROVE, PARALLEL, SETTINGS, Bus, case, define, flow, linear, step, tasks, the_task

from yiwang_business.clock import local_date
from yiwang_business.task.actions import case_actions
from yiwang_business.task.handlers import on_joint_part_supplemented
from yiwang_common.contracts.common import MaterialRef
from yiwang_common.contracts.management import JointPartSupplemented
from yiwang_common.db import session_scope, utcnow
from yiwang_common.events import make_event

ACCEPTOR = token("acceptor", sub="shouli", name="受理员")
DELIVERER = token("deliverer", sub="songda", name="送达员")
SUPERVISOR = token("supervisor", sub="duban", name="督办员")
APPLICANT = token("applicant", org=None, sub="zhangsan", name="张三")
STRANGER = token("applicant", org=None, sub="lisi", name="李四")
THREE = linear(
    step("review", "审查"),
    step("survey", "现场踏勘", time_limit_days=2),
    step("decide", "决定", "approver", "decide"),
)


async def complete(
    client: httpx.AsyncClient, headers: dict[str, str], task_id: str, **body: Any
) -> httpx.Response:
    return await client.post(f"/api/v1/tasks/{task_id}/complete", json=APPROVE | body, headers=headers)


async def post(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], body: dict[str, Any]
) -> httpx.Response:
    return await client.post(f"/api/v1{path}", json=body, headers=headers)


class TestParallel:
    async def test_three_branches_open_together_and_the_join_waits_for_the_last(
        self, live: httpx.AsyncClient, take_over: TakeOver, bus: Bus
    ) -> None:
        await define(live, PARALLEL)
        data = await take_over()
        planning = await the_task(live, REVIEWER, data.case_no)
        fire = await the_task(live, ACCEPTOR, data.case_no)
        safety = await the_task(live, DELIVERER, data.case_no)
        assert (planning["step_name"], fire["step_name"], safety["step_name"]) == (
            "规划审查",
            "消防审查",
            "安全审查",
        )

        first = (await complete(live, REVIEWER, planning["id"])).json()
        assert first["next_tasks"] == [] and first["case_status"] == "in_progress"
        await complete(live, ACCEPTOR, fire["id"])
        assert await tasks(live, APPROVER, data.case_no) == []
        last = (await complete(live, DELIVERER, safety["id"])).json()
        assert [t["step_name"] for t in last["next_tasks"]] == ["决定"]

        decide = await the_task(live, APPROVER, data.case_no)
        assert (await complete(live, APPROVER, decide["id"])).json()["case_status"] == "decided"
        decided = await bus.wait_for("yiwang.business.case.decided.v1", data.case_no)
        assert [s["step_name"] for s in decided["steps"]][-1] == "决定"
        assert {s["step_name"] for s in decided["steps"]} == {"规划审查", "消防审查", "安全审查", "决定"}

    async def test_branches_finishing_at_once_open_the_joined_step_exactly_once(
        self, client: httpx.AsyncClient, take_over: TakeOver, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        await define(client, PARALLEL)
        for _ in range(3):
            data = await take_over()
            branches = [
                (REVIEWER, await the_task(client, REVIEWER, data.case_no)),
                (ACCEPTOR, await the_task(client, ACCEPTOR, data.case_no)),
                (DELIVERER, await the_task(client, DELIVERER, data.case_no)),
            ]
            answers = await asyncio.gather(*(complete(client, h, t["id"]) for h, t in branches))
            assert [a.status_code for a in answers] == [200, 200, 200]
            opened = await scalar(
                sessionmaker,
                "SELECT count(*) FROM task WHERE case_no = :c AND step_key = 'decide'",
                c=data.case_no,
            )
            assert opened == 1


class TestExclusive:
    BRANCHED: dict[str, Any] = {
        "steps": [
            step("review", "审查"),
            step("expert", "专家论证"),
            step("decide", "决定", "approver", "decide"),
        ],
        "gateways": [{"key": "size", "type": "exclusive", "name": "规模"}],
        "flows": [
            flow("start", "review"),
            flow("review", "size"),
            flow("size", "expert", "${建设面积 > 10000 && 类型 == '新建'}"),
            flow("size", "decide", default=True),
            flow("expert", "decide"),
            flow("decide", "end"),
        ],
        **SETTINGS,
    }

    async def test_the_form_data_chooses_the_branch(
        self, client: httpx.AsyncClient, take_over: TakeOver
    ) -> None:
        await define(client, self.BRANCHED)
        big = await take_over(accepted(建设面积="25000", 类型="新建", 工程名称="大楼"))
        small = await take_over(accepted(建设面积=800, 类型="新建", 工程名称="小楼"))
        for data, expected in ((big, "专家论证"), (small, "决定")):
            review = await the_task(client, REVIEWER, data.case_no)
            answer = (await complete(client, REVIEWER, review["id"])).json()
            assert answer["next_task"]["step_name"] == expected


class TestLeadAndAssist:
    async def test_assistants_give_opinions_and_the_step_completes_with_the_lead(
        self, live: httpx.AsyncClient, take_over: TakeOver, bus: Bus
    ) -> None:
        assists = [{"role": "acceptor"}, {"role": "reviewer", "org_code": OTHER_ORG}]
        await define(
            live,
            linear(step("review", "审查", assists=assists), step("decide", "决定", "approver", "decide")),
        )
        data = await take_over()
        lead = await the_task(live, REVIEWER, data.case_no)
        mine = await the_task(live, ACCEPTOR, data.case_no)
        other = await the_task(live, token("reviewer", org=OTHER_ORG), data.case_no)
        assert (lead["kind"], mine["kind"], other["kind"]) == ("review", "assist", "assist")
        assert mine["lead_task_id"] == other["lead_task_id"] == lead["id"]

        answer = (await complete(live, ACCEPTOR, mine["id"], opinion="受理材料无误。")).json()
        assert answer["next_task"] is None
        assert await tasks(live, APPROVER, data.case_no) == []
        detail = (await live.get(f"/api/v1/tasks/{lead['id']}", headers=REVIEWER)).json()
        assert sorted((a["role"], a["status"], a["opinion"] or "") for a in detail["assists"]) == [
            ("acceptor", "done", "受理材料无误。"),
            ("reviewer", "open", ""),
        ]

        await complete(live, REVIEWER, lead["id"])
        assert await tasks(live, token("reviewer", org=OTHER_ORG), data.case_no) == []
        assert [t["step_name"] for t in await tasks(live, APPROVER, data.case_no)] == ["决定"]
        done = await bus.wait_for("yiwang.business.case.step_completed.v1", data.case_no)
        assert (done["step"]["step_name"], done["next_step_name"]) == ("审查", "决定")


class TestReturn:
    async def test_return_to_an_earlier_step_reopens_it(
        self, live: httpx.AsyncClient, take_over: TakeOver, bus: Bus
    ) -> None:
        await define(live, THREE)
        data = await take_over()
        await complete(live, REVIEWER, (await the_task(live, REVIEWER, data.case_no))["id"])
        survey = await the_task(live, REVIEWER, data.case_no)
        assert survey["step_name"] == "现场踏勘"
        # 电子监察 learns the next step and its own limit (2 working days) from the step event.
        moved = await bus.wait_for("yiwang.business.case.step_completed.v1", data.case_no)
        assert (moved["next_step_key"], moved["next_step_due_date"]) == ("survey", survey["step_due_date"])
        assert survey["step_due_date"] is not None
        answer = await post(
            live, f"/tasks/{survey['id']}/return", REVIEWER, {"to": "review", "reason": "审查意见不完整"}
        )
        assert answer.status_code == 200, answer.text
        assert [t["step_name"] for t in answer.json()["open_tasks"]] == ["审查"]
        view = await case(live, REVIEWER, data.case_no)
        assert [(t["step_key"], t["status"]) for t in view["tasks"]] == [
            ("review", "done"),
            ("survey", "cancelled"),
            ("review", "open"),
        ]
        assert view["log"][0]["action"] == "return"
        returned = await bus.wait_for("yiwang.business.case.returned.v1", data.case_no)
        assert (returned["from_step_name"], returned["to_step_name"], returned["to_applicant"]) == (
            "现场踏勘",
            "审查",
            False,
        )

    async def test_return_to_a_step_not_yet_done_gets_422_and_changes_nothing(
        self, client: httpx.AsyncClient, take_over: TakeOver, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        await define(client, THREE)
        data = await take_over()
        review = await the_task(client, REVIEWER, data.case_no)
        before = await counts(sessionmaker)
        answer = await post(
            client, f"/tasks/{review['id']}/return", REVIEWER, {"to": "survey", "reason": "x"}
        )
        assert answer.status_code == 422
        assert answer.json()["errors"][0]["loc"] == ["body", "to"]
        assert await counts(sessionmaker) == before

    async def test_return_to_the_applicant_stops_the_clock_until_the_correction(
        self,
        live: httpx.AsyncClient,
        take_over: TakeOver,
        bus: Bus,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        await define(live, THREE)
        data = await take_over()
        review = await the_task(live, REVIEWER, data.case_no)
        answer = await post(
            live, f"/tasks/{review['id']}/return", REVIEWER, {"to": "applicant", "reason": "缺少图纸"}
        )
        assert answer.json()["clock"] == "with_applicant"
        refused = await complete(live, REVIEWER, review["id"])
        assert (refused.status_code, refused.json()["code"]) == (409, "case_clock_stopped")
        paused = await bus.wait_for("yiwang.business.case.clock_paused.v1", data.case_no)
        assert (paused["kind"], paused["notify_applicant"]) == ("with_applicant", True)
        assert (await bus.wait_for("yiwang.business.case.returned.v1", data.case_no))["to_applicant"] is True

        # The case went to the applicant ten days ago: the working days in between move the due date.
        async with session_scope(sessionmaker) as session:
            await session.execute(
                text(
                    "UPDATE business_case SET paused_at = paused_at - interval '10 days' WHERE case_no = :c"
                ),
                {"c": data.case_no},
            )
        someone_else = await post(live, f"/cases/{data.case_no}/correction", STRANGER, {"note": "补正"})
        assert someone_else.status_code == 404
        corrected = await post(
            live,
            f"/cases/{data.case_no}/correction",
            APPLICANT,
            {"form": {"图纸": "已补"}, "note": "已补图纸"},
        )
        assert corrected.status_code == 200, corrected.text
        view = await case(live, REVIEWER, data.case_no)
        assert view["clock"] is None and view["paused_days"] > 0
        assert date.fromisoformat(view["due_date"]) > data.due_date
        assert view["facts"]["form"]["图纸"] == "已补"
        resumed = await bus.wait_for("yiwang.business.case.clock_resumed.v1", data.case_no)
        assert resumed["paused_working_days"] == view["paused_days"]
        assert (await complete(live, REVIEWER, review["id"])).status_code == 200

    async def test_a_joint_parts_correction_from_management_resumes_it_once(
        self,
        live: httpx.AsyncClient,
        take_over: TakeOver,
        bus: Bus,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        """联办分件已补正 (ADR 0127): the applicant's hand-in through management is the correction."""
        await define(live, THREE)
        data = await take_over()
        review = await the_task(live, REVIEWER, data.case_no)
        await post(
            live, f"/tasks/{review['id']}/return", REVIEWER, {"to": "applicant", "reason": "缺少合格书"}
        )
        paused = await bus.wait_for("yiwang.business.case.clock_paused.v1", data.case_no)
        material = {
            "material_code": "M06",
            "name": "施工图审查合格书",
            "sha256": "ab" * 32,
            "size": 10,
            "media_type": "application/pdf",
        }

        def supplemented(at: datetime) -> JointPartSupplemented:
            return JointPartSupplemented(
                joint_no=data.case_no[:21],
                part_no=data.case_no,
                application_id=data.application_id,
                materials=[MaterialRef.model_validate(material)],
                form={"图纸": "已补"},
                note="已补充合格书",
                channel="online",
                by_id="zhangsan",
                by_name="张三",
                supplied_at=at,
            )

        async def deliver(event: JointPartSupplemented) -> None:
            envelope = make_event(event, source="urn:yiwang:530428:management", subject=event.part_no)
            async with session_scope(sessionmaker) as session:
                await on_joint_part_supplemented(session, envelope, event)

        # A hand-in older than the request answers nothing.
        await deliver(supplemented(datetime.fromisoformat(paused["paused_at"]) - timedelta(minutes=1)))
        assert (await case(live, REVIEWER, data.case_no))["clock"] == "with_applicant"
        await deliver(supplemented(utcnow()))
        view = await case(live, REVIEWER, data.case_no)
        assert view["clock"] is None and view["facts"]["form"]["图纸"] == "已补"
        assert [m["sha256"] for m in view["facts"]["materials"] if m["material_code"] == "M06"] == [
            material["sha256"]
        ]
        resumed = await bus.wait_for("yiwang.business.case.clock_resumed.v1", data.case_no)
        assert (resumed["kind"], resumed["reason"]) == ("with_applicant", "已补充合格书")
        # A replay changes nothing: the clock runs, the step goes on once.
        await deliver(supplemented(utcnow()))
        assert (
            await scalar(
                sessionmaker,
                "SELECT count(*) FROM case_log WHERE case_no = :c AND action = 'correction'",
                c=data.case_no,
            )
            == 1
        )
        assert (await complete(live, REVIEWER, review["id"])).status_code == 200


class TestTransferAndRemind:
    async def test_transfer_hands_the_task_to_another_department(
        self, live: httpx.AsyncClient, take_over: TakeOver, bus: Bus
    ) -> None:
        await define(live, THREE)
        data = await take_over()
        review = await the_task(live, REVIEWER, data.case_no)
        body = {"org_code": OTHER_ORG, "reason": "涉及消防设计审查"}
        assert (await post(live, f"/tasks/{review['id']}/transfer", REVIEWER, body)).status_code == 200
        assert await tasks(live, REVIEWER, data.case_no) == []
        other = token("reviewer", org=OTHER_ORG, sub="xiaofang")
        assert (await the_task(live, other, data.case_no))["id"] == review["id"]
        moved = await bus.wait_for("yiwang.business.task.transferred.v1", data.case_no)
        assert (moved["from_org_code"], moved["to_org_code"]) == (ORG, OTHER_ORG)
        same = await post(
            live, f"/tasks/{review['id']}/transfer", other, {"org_code": OTHER_ORG, "reason": "x"}
        )
        assert same.status_code == 422

    async def test_remind_is_recorded_and_announced(
        self, live: httpx.AsyncClient, take_over: TakeOver, bus: Bus
    ) -> None:
        await define(live, THREE)
        data = await take_over()
        review = await the_task(live, REVIEWER, data.case_no)
        for _ in range(2):
            answer = await post(live, f"/tasks/{review['id']}/remind", SUPERVISOR, {"message": "请今日办理"})
            assert answer.status_code == 200, answer.text
        assert (await the_task(live, REVIEWER, data.case_no))["reminders"] == 2
        view = await case(live, REVIEWER, data.case_no)
        assert [e["action"] for e in view["log"]] == ["remind", "remind"]
        reminded = await bus.wait_for("yiwang.business.task.reminded.v1", data.case_no)
        assert (reminded["by_timer"], reminded["escalate"], reminded["message"]) == (
            False,
            False,
            "请今日办理",
        )
        stranger = await post(
            live, f"/tasks/{review['id']}/remind", token("reviewer", org=OTHER_ORG), {"message": "x"}
        )
        assert stranger.status_code == 404


class TestSuspendResume:
    async def test_suspended_case_waits_and_resume_lets_it_move(
        self, live: httpx.AsyncClient, take_over: TakeOver, bus: Bus
    ) -> None:
        await define(live, THREE)
        data = await take_over()
        review = await the_task(live, REVIEWER, data.case_no)
        suspended = await post(
            live, f"/cases/{data.case_no}/suspend", APPROVER, {"reason": "等待规划部门复函"}
        )
        assert suspended.json()["clock"] == "suspended"
        again = await post(live, f"/cases/{data.case_no}/suspend", APPROVER, {"reason": "x"})
        assert again.status_code == 409
        assert (await complete(live, REVIEWER, review["id"])).status_code == 409
        paused = await bus.wait_for("yiwang.business.case.clock_paused.v1", data.case_no)
        assert (paused["kind"], paused["notify_applicant"], paused["reason"]) == (
            "suspended",
            False,
            "等待规划部门复函",
        )

        assert (
            await post(live, f"/cases/{data.case_no}/resume", APPROVER, {"reason": "已复函"})
        ).status_code == 200
        assert (
            await post(live, f"/cases/{data.case_no}/resume", APPROVER, {"reason": "x"})
        ).status_code == 409
        assert (await complete(live, REVIEWER, review["id"])).status_code == 200
        resumed = await bus.wait_for("yiwang.business.case.clock_resumed.v1", data.case_no)
        assert (resumed["kind"], resumed["paused_working_days"]) == ("suspended", 0)


class TestWithdraw:
    async def test_applicant_withdraws_before_the_decision(
        self, live: httpx.AsyncClient, take_over: TakeOver, bus: Bus
    ) -> None:
        await define(live, PARALLEL)
        data = await take_over()
        assert (
            await post(live, f"/cases/{data.case_no}/withdraw", STRANGER, {"reason": "x"})
        ).status_code == 404
        answer = await post(live, f"/cases/{data.case_no}/withdraw", APPLICANT, {"reason": "项目取消"})
        assert answer.status_code == 200, answer.text
        assert (answer.json()["status"], answer.json()["open_tasks"]) == ("withdrawn", [])
        assert {t["status"] for t in (await case(live, REVIEWER, data.case_no))["tasks"]} == {"cancelled"}
        withdrawn = await bus.wait_for("yiwang.business.case.withdrawn.v1", data.case_no)
        assert withdrawn["reason"] == "项目取消"
        assert (
            await post(live, f"/cases/{data.case_no}/withdraw", APPLICANT, {"reason": "x"})
        ).status_code == 409

    async def test_a_decided_case_cannot_be_withdrawn(
        self, client: httpx.AsyncClient, take_over: TakeOver
    ) -> None:
        data = await take_over()
        await complete(client, REVIEWER, (await the_task(client, REVIEWER, data.case_no))["id"])
        await complete(client, APPROVER, (await the_task(client, APPROVER, data.case_no))["id"])
        answer = await post(client, f"/cases/{data.case_no}/withdraw", APPLICANT, {"reason": "x"})
        assert (answer.status_code, answer.json()["code"]) == (409, "case_not_running")


class TestSpecialProcedure:
    async def test_special_procedure_pauses_the_clock_and_tells_the_applicant(
        self, live: httpx.AsyncClient, take_over: TakeOver, bus: Bus
    ) -> None:
        await define(
            live,
            linear(
                step("review", "审查", special_procedures=["site_inspection"]),
                step("decide", "决定", "approver", "decide", special_procedures=[]),
            ),
        )
        data = await take_over()
        review = await the_task(live, REVIEWER, data.case_no)
        body = {"procedure": "site_inspection", "reason": "需现场核实施工条件"}
        answer = await post(live, f"/tasks/{review['id']}/special-procedures", REVIEWER, body)
        assert answer.json()["clock"] == "site_inspection"
        paused = await bus.wait_for("yiwang.business.case.clock_paused.v1", data.case_no)
        assert (paused["kind_name"], paused["notify_applicant"]) == ("现场勘验", True)
        assert (await complete(live, REVIEWER, review["id"])).status_code == 409
        await post(live, f"/cases/{data.case_no}/resume", APPROVER, {"reason": "勘验完成"})
        await complete(live, REVIEWER, review["id"])
        decide = await the_task(live, APPROVER, data.case_no)
        hearing = {"procedure": "hearing", "reason": "x"}
        refused = await post(live, f"/tasks/{decide['id']}/special-procedures", APPROVER, hearing)
        assert (refused.status_code, refused.json()["code"]) == (422, "special_procedure_not_allowed")


class TestTimers:
    async def test_a_step_past_its_limit_fires_its_timer_once(
        self,
        live: httpx.AsyncClient,
        take_over: TakeOver,
        bus: Bus,
        sessionmaker: async_sessionmaker[AsyncSession],
    ) -> None:
        await define(
            live,
            linear(
                step("review", "审查", time_limit_days=3, timer={"action": "escalate"}),
                step("decide", "决定", "approver", "decide"),
            ),
        )
        data = await take_over()
        review = await the_task(live, REVIEWER, data.case_no)
        due = date.fromisoformat(review["step_due_date"])
        assert due > local_date(utcnow())
        assert (await live.post("/api/v1/timers/sweep", headers=SUPERVISOR)).json() == {"fired": 0}
        assert (await live.post("/api/v1/timers/sweep", headers=REVIEWER)).status_code == 403

        async with session_scope(sessionmaker) as session:
            fired = await case_actions.sweep_timers(session, today=due + timedelta(days=1), source="urn:test")
        assert fired == 1
        async with session_scope(sessionmaker) as session:
            again = await case_actions.sweep_timers(session, today=due + timedelta(days=2), source="urn:test")
        assert again == 0
        reminded = await bus.wait_for("yiwang.business.task.reminded.v1", data.case_no)
        assert (reminded["by_timer"], reminded["escalate"], reminded["due_date"]) == (
            True,
            True,
            due.isoformat(),
        )
        assert [e["action"] for e in (await case(live, REVIEWER, data.case_no))["log"]] == ["timer"]


class TestAdmin:
    async def test_only_an_administrator_defines(self, client: httpx.AsyncClient) -> None:
        answer = await client.post("/api/v1/workflows/ABC/versions", json=THREE, headers=REVIEWER)
        assert answer.status_code == 403
        assert (
            await client.post("/api/v1/workflows/ABC/versions", json=THREE, headers=ADMIN)
        ).status_code == 201
