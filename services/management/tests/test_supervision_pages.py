"""Console pages of e-supervision (/console/manage): the board with yellow/red warnings and the
written reply, and the calendar administration's upload, with the console's CSRF rules."""

from __future__ import annotations

import json
from datetime import date

from fastapi import FastAPI
from management_factories import ACCEPTOR, ADMIN, SUPERVISOR
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from test_supervision import SCHEDULE_2027, accept_from, run_sweep

from yiwang_common.calendar import WorkingDayCalendar
from yiwang_common.db import session_scope


class TestBoard:
    async def test_warnings_are_shown_answered_and_closed_from_the_board(
        self,
        browser: object,
        sessionmaker: async_sessionmaker[AsyncSession],
        case_no: str,
        calendar: WorkingDayCalendar,
    ) -> None:
        await accept_from(sessionmaker, case_no, date(2026, 11, 2), calendar)
        await run_sweep(sessionmaker, calendar, date(2026, 11, 10), tick=41)
        supervisor, department = browser(SUPERVISOR), browser(ACCEPTOR)  # type: ignore[operator]
        page = await supervisor.http.get("/console/manage/supervision")
        assert page.status_code == 200
        assert case_no in page.text and "超时" in page.text and "预警" in page.text
        board = await department.http.get("/console/manage/supervision?level=red")
        assert "提交答复" in board.text and board.text.count(f"<td>{case_no}</td>") == 1
        warning_id = board.text.split('id="warning-')[1].split('"')[0]
        forged = await department.http.post(
            f"/console/manage/supervision/warnings/{warning_id}/reply", data={"csrf": "x", "text": "已办"}
        )
        assert forged.status_code == 400
        replied = await department.http.post(
            f"/console/manage/supervision/warnings/{warning_id}/reply",
            data={"csrf": department.csrf, "text": "专家评审延后，今日办结"},
        )
        assert replied.status_code == 303
        after = await supervisor.http.get("/console/manage/supervision?status=replied")
        assert "专家评审延后，今日办结" in after.text and "确认办结" in after.text
        closed = await supervisor.http.post(
            f"/console/manage/supervision/warnings/{warning_id}/close", data={"csrf": supervisor.csrf}
        )
        assert closed.status_code == 303
        assert "已办结" in (await supervisor.http.get("/console/manage/supervision?status=closed")).text


class TestCalendarAdministration:
    async def test_an_admin_uploads_a_schedule_and_a_broken_one_lists_its_problems(
        self, app: FastAPI, browser: object, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        admin, supervisor = browser(ADMIN), browser(SUPERVISOR)  # type: ignore[operator]
        try:
            page = await supervisor.http.get("/console/manage/calendar")
            assert page.status_code == 200 and "2026" in page.text and "仅中心管理员" in page.text
            refused = await supervisor.http.post(
                "/console/manage/calendar",
                data={"csrf": supervisor.csrf},
                files={"file": ("2027.json", json.dumps(SCHEDULE_2027).encode(), "application/json")},
            )
            assert refused.status_code == 403
            broken = {**SCHEDULE_2027, "workdays": [{"name": "春节", "date": "2027-02-15"}]}
            rejected = await admin.http.post(
                "/console/manage/calendar",
                data={"csrf": admin.csrf},
                files={"file": ("2027.json", json.dumps(broken).encode(), "application/json")},
            )
            assert rejected.status_code == 422 and "不是周末" in rejected.text
            loaded = await admin.http.post(
                "/console/manage/calendar",
                data={"csrf": admin.csrf},
                files={"file": ("2027.json", json.dumps(SCHEDULE_2027).encode(), "application/json")},
            )
            assert loaded.status_code == 200 and "已载入 2027 年节假日安排" in loaded.text
            assert "<td>2027</td>" in loaded.text and "载入" in loaded.text
        finally:
            async with session_scope(sessionmaker) as session:
                await session.execute(text("TRUNCATE calendar_schedule"))
            async with sessionmaker() as session:
                await app.state.calendar_sync.refresh(session, force=True)
