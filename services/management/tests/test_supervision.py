"""电子监察 E-supervision: deadlines across holidays with pauses, the one extension, provisional due
dates recomputed when a year's schedule is loaded, warnings raised once per tick across workers,
the written reply, 催办/督办, deemed approval and on-time rates."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from management_factories import (
    ACCEPTOR,
    ADMIN,
    ORG_CODE,
    OTHER_ACCEPTOR,
    SUPERVISOR,
    auth,
    outbox,
    register,
    submitted,
)
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.auth import Principal
from yiwang_common.calendar import WorkingDayCalendar, parse_schedule
from yiwang_common.contracts.business import CaseDecided, CaseStepCompleted
from yiwang_common.contracts.common import DecisionDocument, Organisation, StepRecord
from yiwang_common.contracts.management import CaseDeemedApproved, SupervisionWarningsRaised
from yiwang_common.db import session_scope, utcnow
from yiwang_common.events import EventEnvelope, make_event
from yiwang_management.case import service as case_service
from yiwang_management.case.handlers import CaseEventHandlers
from yiwang_management.case.models import Case
from yiwang_management.config import SupervisionSettings
from yiwang_management.shared import local_date
from yiwang_management.supervision import service
from yiwang_management.supervision.models import (
    CaseDeadline,
    CaseDueChange,
    SupervisionSweep,
    SupervisionWarning,
)
from yiwang_management.supervision.sweep import sweep
from yiwang_management.supervision.worker import current_tick

APPROVER = Principal(
    sub="staff-juedin", name="决定人赵局", kind="staff", roles=frozenset({"approver"}), org_code=ORG_CODE
)
DEFAULTS = SupervisionSettings()
SOURCE = "urn:yiwang:530428:management"
WARNED = SupervisionWarningsRaised.subject
# Shaped like an announcement for 2027, which the packaged calendar does not know; not a real notice.
SCHEDULE_2027: dict[str, Any] = {
    "year": 2027,
    "source": "测试用安排（非真实通知）",
    "holidays": [
        {"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"},
        {"name": "春节", "start": "2027-02-06", "end": "2027-02-13"},
    ],
    "workdays": [{"name": "春节", "date": "2027-02-14"}],
}


@pytest.fixture
async def app_calendar(app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[Any]:
    """The app's calendar; afterwards back to what the (truncated) database holds."""
    yield app.state.calendar
    async with session_scope(sessionmaker) as session:
        await session.execute(text("TRUNCATE calendar_schedule"))
    async with sessionmaker() as session:
        await app.state.calendar_sync.refresh(session, force=True)


async def accept_from(
    sessionmaker: async_sessionmaker[AsyncSession],
    case_no: str,
    clock_start: date,
    calendar: WorkingDayCalendar,
    principal: Principal = ACCEPTOR,
) -> None:
    """Accept with the clock starting on ``clock_start`` (as if the last supplement came that day)."""
    async with session_scope(sessionmaker) as session:
        await session.execute(update(Case).where(Case.case_no == case_no).values(clock_start=clock_start))
    async with session_scope(sessionmaker) as session:
        await case_service.accept_case(
            session,
            case_no=case_no,
            principal=principal,
            opinion="予以受理",
            calendar=calendar,
            source=SOURCE,
        )


async def clock(sessionmaker: async_sessionmaker[AsyncSession], case_no: str) -> CaseDeadline:
    async with sessionmaker() as session:
        found = await session.get(CaseDeadline, case_no)
        assert found is not None
        return found


async def history(sessionmaker: async_sessionmaker[AsyncSession], case_no: str) -> list[CaseDueChange]:
    async with sessionmaker() as session:
        statement = select(CaseDueChange).where(CaseDueChange.case_no == case_no).order_by(CaseDueChange.id)
        return list(await session.scalars(statement))


async def warnings(sessionmaker: async_sessionmaker[AsyncSession]) -> list[tuple[str, str, str]]:
    async with sessionmaker() as session:
        rows = await session.execute(
            select(
                SupervisionWarning.case_no, SupervisionWarning.step_key, SupervisionWarning.level
            ).order_by(SupervisionWarning.case_no, SupervisionWarning.step_key, SupervisionWarning.level)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


async def run_sweep(
    sessionmaker: async_sessionmaker[AsyncSession], calendar: WorkingDayCalendar, today: date, tick: int = 1
) -> Any:
    return await sweep(
        sessionmaker,
        tick=tick,
        calendar=calendar,
        defaults=DEFAULTS,
        source=SOURCE,
        worker="test",
        today=today,
    )


class TestDeadlineArithmetic:
    async def test_pause_over_national_day_moves_both_due_dates_and_is_recorded(
        self, sessionmaker: async_sessionmaker[AsyncSession], case_no: str, calendar: WorkingDayCalendar
    ) -> None:
        # Clock from Mon 28 Sep 2026, 5 promised days: 29, 30 Sep, 8, 9 Oct and Sat 10 Oct (调休).
        await accept_from(sessionmaker, case_no, date(2026, 9, 28), calendar)
        opened = await clock(sessionmaker, case_no)
        assert (opened.due_date, opened.statutory_due_date, opened.provisional) == (
            date(2026, 10, 10),
            date(2026, 10, 13),
            False,
        )
        async with session_scope(sessionmaker) as session:
            await service.pause(
                session, case_no, ACCEPTOR, kind="special_procedure", reason="专家评审", on=date(2026, 9, 29)
            )
        async with session_scope(sessionmaker) as session:
            await service.resume(
                session, case_no, ACCEPTOR, calendar=calendar, defaults=DEFAULTS, on=date(2026, 10, 9)
            )
        resumed = await clock(sessionmaker, case_no)
        # Paused 30 Sep, 8 and 9 Oct (the holiday week is not a working day): three more days.
        assert resumed.paused_days == 3
        assert (resumed.due_date, resumed.statutory_due_date) == (date(2026, 10, 14), date(2026, 10, 16))
        case = await session_get_case(sessionmaker, case_no)
        assert (case.due_date, case.statutory_due_date) == (date(2026, 10, 14), date(2026, 10, 16))
        lines = await history(sessionmaker, case_no)
        assert [h.reason for h in lines] == ["accepted", "paused", "resumed"]
        assert (lines[-1].old_due_date, lines[-1].new_due_date) == (date(2026, 10, 10), date(2026, 10, 14))
        assert "顺延 3 个工作日" in lines[-1].note

    async def test_one_extension_with_reason_and_approver(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        case_no: str,
        calendar: WorkingDayCalendar,
    ) -> None:
        # Thu 12 Feb 2026 + 5: Fri 13, Sat 14 (调休), then 24, 25, 26 Feb after the Spring Festival.
        await accept_from(sessionmaker, case_no, date(2026, 2, 12), calendar)
        assert (await clock(sessionmaker, case_no)).due_date == date(2026, 2, 26)
        body = {"days": 3, "reason": "需现场核查"}
        refused = await client.post(f"/cases/{case_no}/extension", json=body, headers=auth(ACCEPTOR))
        assert refused.status_code == 403
        extended = await client.post(f"/cases/{case_no}/extension", json=body, headers=auth(APPROVER))
        assert extended.status_code == 200, extended.text
        detail = extended.json()
        # 27 Feb, Sat 28 Feb (调休), 2 Mar.
        assert detail["due_date"] == "2026-03-02"
        assert detail["extension_approver_name"] == "决定人赵局"
        assert detail["history"][-1]["reason"] == "extended"
        assert "需现场核查" in detail["history"][-1]["note"]
        again = await client.post(f"/cases/{case_no}/extension", json=body, headers=auth(APPROVER))
        assert again.status_code == 409
        assert again.json()["code"] == "already_extended"

    async def test_too_long_an_extension_is_refused(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        case_no: str,
        calendar: WorkingDayCalendar,
    ) -> None:
        await accept_from(sessionmaker, case_no, date(2026, 11, 2), calendar)
        response = await client.post(
            f"/cases/{case_no}/extension", json={"days": 11, "reason": "x"}, headers=auth(APPROVER)
        )
        assert response.status_code == 422
        assert response.json()["code"] == "extension_too_long"

    async def test_pause_endpoints_and_states(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        case_no: str,
        calendar: WorkingDayCalendar,
    ) -> None:
        await accept_from(sessionmaker, case_no, date(2026, 11, 2), calendar)
        assert (
            await client.post(f"/cases/{case_no}/pauses/resume", headers=auth(ACCEPTOR))
        ).status_code == 409
        body = {"kind": "suspension", "reason": "申请人申请挂起"}
        paused = await client.post(f"/cases/{case_no}/pauses", json=body, headers=auth(ACCEPTOR))
        assert paused.status_code == 200 and paused.json()["paused"] is True
        assert paused.json()["pauses"][0]["kind_name"] == "挂起"
        assert (
            await client.post(f"/cases/{case_no}/pauses", json=body, headers=auth(ACCEPTOR))
        ).status_code == 409
        other = await client.get(f"/cases/{case_no}/deadline", headers=auth(OTHER_ACCEPTOR))
        # Another unit's acceptor is not this case's: deny by default, answered like "not there".
        assert other.status_code == 404
        resumed = await client.post(f"/cases/{case_no}/pauses/resume", headers=auth(ACCEPTOR))
        assert resumed.status_code == 200 and resumed.json()["paused"] is False


async def session_get_case(sessionmaker: async_sessionmaker[AsyncSession], case_no: str) -> Case:
    async with sessionmaker() as session:
        case = await session.get(Case, case_no)
        assert case is not None
        return case


class TestProvisionalAndSchedules:
    async def test_a_deadline_into_an_unknown_year_is_provisional_until_the_schedule_is_loaded(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        case_no: str,
        app_calendar: WorkingDayCalendar,
    ) -> None:
        # Mon 28 Dec 2026 + 5 without a 2027 schedule: 29, 30, 31 Dec, Fri 1 Jan, Mon 4 Jan (暂定).
        await accept_from(sessionmaker, case_no, date(2026, 12, 28), app_calendar)
        before = await clock(sessionmaker, case_no)
        assert (before.due_date, before.provisional) == (date(2027, 1, 4), True)
        detail = (await client.get(f"/cases/{case_no}/deadline", headers=auth(ACCEPTOR))).json()
        assert detail["provisional"] is True and "暂定" in detail["history"][0]["note"]

        forbidden = await client.put("/calendar/schedules/2027", json=SCHEDULE_2027, headers=auth(SUPERVISOR))
        assert forbidden.status_code == 403
        loaded = await client.put("/calendar/schedules/2027", json=SCHEDULE_2027, headers=auth(ADMIN))
        assert loaded.status_code == 200, loaded.text
        assert loaded.json() == {"year": 2027, "holidays": 2, "workdays": 1, "recomputed_cases": 1}

        after = await clock(sessionmaker, case_no)
        # 1–3 Jan are the 元旦 holiday now: the fifth working day is Tue 5 Jan, and it is final.
        assert (after.due_date, after.provisional) == (date(2027, 1, 5), False)
        assert (await session_get_case(sessionmaker, case_no)).due_date == date(2027, 1, 5)
        last = (await history(sessionmaker, case_no))[-1]
        assert (
            last.reason,
            last.old_due_date,
            last.new_due_date,
            last.old_provisional,
            last.new_provisional,
        ) == (
            "schedule_loaded",
            date(2027, 1, 4),
            date(2027, 1, 5),
            True,
            False,
        )
        assert "2027" in last.note
        years = (await client.get("/calendar/schedules", headers=auth(SUPERVISOR))).json()
        assert {"year": 2027, "origin": "loaded"}.items() <= years[-1].items()
        assert years[0]["year"] == 2004 and years[0]["origin"] == "packaged"
        document = (await client.get("/calendar/schedules/2027", headers=auth(ACCEPTOR))).json()
        assert parse_schedule(document) == parse_schedule(SCHEDULE_2027)

    async def test_a_broken_schedule_is_refused_and_changes_nothing(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        app_calendar: WorkingDayCalendar,
    ) -> None:
        broken = {**SCHEDULE_2027, "holidays": [{"name": "春节", "start": "2026-12-31", "end": "2027-01-02"}]}
        response = await client.put("/calendar/schedules/2027", json=broken, headers=auth(ADMIN))
        assert response.status_code == 422
        assert any("不在 2027 年内" in e for e in response.json()["errors"])
        mismatch = await client.put("/calendar/schedules/2028", json=SCHEDULE_2027, headers=auth(ADMIN))
        assert mismatch.status_code == 422
        assert not app_calendar.knows(2027)
        assert (await client.get("/calendar/schedules/2027", headers=auth(ADMIN))).status_code == 404

    async def test_the_sweep_fixes_what_a_replica_with_a_stale_calendar_accepted(
        self, sessionmaker: async_sessionmaker[AsyncSession], case_no: str
    ) -> None:
        stale = WorkingDayCalendar()
        await accept_from(sessionmaker, case_no, date(2026, 12, 28), stale)
        assert (await clock(sessionmaker, case_no)).provisional is True
        current = WorkingDayCalendar(schedules=[parse_schedule(SCHEDULE_2027)])
        result = await run_sweep(sessionmaker, current, date(2026, 12, 28))
        assert result.counts["recomputed"] == 1
        fixed = await clock(sessionmaker, case_no)
        assert (fixed.due_date, fixed.provisional) == (date(2027, 1, 5), False)


class TestSweep:
    async def test_yellow_then_red_once_each_with_their_events(
        self, sessionmaker: async_sessionmaker[AsyncSession], case_no: str, calendar: WorkingDayCalendar
    ) -> None:
        await accept_from(sessionmaker, case_no, date(2026, 11, 2), calendar)
        deadline = await clock(sessionmaker, case_no)
        # Due Mon 9 Nov; yellow two working days before (Thu 5 Nov).
        assert (deadline.due_date, deadline.warn_date) == (date(2026, 11, 9), date(2026, 11, 5))
        assert (await run_sweep(sessionmaker, calendar, date(2026, 11, 4), tick=1)).counts["case_yellow"] == 0
        assert (await run_sweep(sessionmaker, calendar, date(2026, 11, 5), tick=2)).counts["case_yellow"] == 1
        assert (await run_sweep(sessionmaker, calendar, date(2026, 11, 9), tick=3)).counts["case_red"] == 0
        assert (await run_sweep(sessionmaker, calendar, date(2026, 11, 10), tick=4)).counts["case_red"] == 1
        assert (await run_sweep(sessionmaker, calendar, date(2026, 11, 20), tick=5)).counts == {
            "recomputed": 0,
            "case_yellow": 0,
            "case_red": 0,
            "step_yellow": 0,
            "step_red": 0,
            "deemed": 0,
        }
        assert await warnings(sessionmaker) == [(case_no, "", "red"), (case_no, "", "yellow")]
        events = await outbox(sessionmaker, WARNED)
        assert [e["data"]["level"] for e in events] == ["yellow", "red"]
        parsed = [
            SupervisionWarningsRaised.model_validate(EventEnvelope.model_validate(e).data) for e in events
        ]
        assert [(p.tick, p.org_code) for p in parsed] == [(2, ORG_CODE), (4, ORG_CODE)]
        assert {(w.case_no, w.due_date, w.step_key) for p in parsed for w in p.warnings} == {
            (case_no, date(2026, 11, 9), None)
        }
        assert events[0]["subject"] == ORG_CODE and events[0]["source"] == SOURCE

    async def test_a_case_given_more_time_is_warned_again_as_its_new_due_date_nears(
        self, sessionmaker: async_sessionmaker[AsyncSession], case_no: str, calendar: WorkingDayCalendar
    ) -> None:
        await accept_from(sessionmaker, case_no, date(2026, 11, 2), calendar)
        # Due Mon 9 Nov, yellow from Thu 5 Nov.
        assert (await run_sweep(sessionmaker, calendar, date(2026, 11, 5), tick=1)).counts["case_yellow"] == 1
        async with session_scope(sessionmaker) as session:
            await service.extend(
                session, case_no, APPROVER, days=3, reason="需现场核查", calendar=calendar, defaults=DEFAULTS
            )
        extended = await clock(sessionmaker, case_no)
        assert (extended.due_date, extended.warn_date) == (date(2026, 11, 12), date(2026, 11, 10))
        assert (await run_sweep(sessionmaker, calendar, date(2026, 11, 6), tick=2)).counts["case_yellow"] == 0
        assert (await run_sweep(sessionmaker, calendar, date(2026, 11, 10), tick=3)).counts[
            "case_yellow"
        ] == 1
        assert (await run_sweep(sessionmaker, calendar, date(2026, 11, 13), tick=4)).counts["case_red"] == 1
        async with sessionmaker() as session:
            raised = (
                await session.execute(
                    select(SupervisionWarning.level, SupervisionWarning.due_date).order_by(
                        SupervisionWarning.id
                    )
                )
            ).all()
        assert [tuple(r) for r in raised] == [
            ("yellow", date(2026, 11, 9)),
            ("yellow", date(2026, 11, 12)),
            ("red", date(2026, 11, 12)),
        ]
        levels = [e["data"]["level"] for e in await outbox(sessionmaker, WARNED)]
        assert levels == ["yellow", "yellow", "red"]

    async def test_a_tick_is_swept_once_and_a_paused_case_is_left_alone(
        self, sessionmaker: async_sessionmaker[AsyncSession], case_no: str, calendar: WorkingDayCalendar
    ) -> None:
        await accept_from(sessionmaker, case_no, date(2026, 11, 2), calendar)
        async with session_scope(sessionmaker) as session:
            await service.pause(
                session, case_no, ACCEPTOR, kind="supplement", reason="补正", on=date(2026, 11, 3)
            )
        assert (await run_sweep(sessionmaker, calendar, date(2026, 11, 30), tick=7)).counts["case_red"] == 0
        assert await run_sweep(sessionmaker, calendar, date(2026, 11, 30), tick=7) is None
        assert await warnings(sessionmaker) == []

    async def test_two_concurrent_sweeps_of_one_tick_raise_each_warning_once(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        case_no: str,
        incomplete_case_no: str,
        calendar: WorkingDayCalendar,
    ) -> None:
        await accept_from(sessionmaker, case_no, date(2026, 11, 2), calendar)
        results = await asyncio.gather(
            *(run_sweep(sessionmaker, calendar, date(2026, 11, 12), tick=9) for _ in range(4))
        )
        assert sum(r is not None for r in results) == 1
        # Different ticks racing (no lock shared): the unique key still keeps one of each.
        await asyncio.gather(
            *(run_sweep(sessionmaker, calendar, date(2026, 11, 12), tick=10 + i) for i in range(3))
        )
        assert await warnings(sessionmaker) == [(case_no, "", "red"), (case_no, "", "yellow")]
        assert len(await outbox(sessionmaker, WARNED)) == 2

    async def test_a_department_with_many_warnings_gets_batches_of_a_thousand(
        self, sessionmaker: async_sessionmaker[AsyncSession], case_no: str, calendar: WorkingDayCalendar
    ) -> None:
        await accept_from(sessionmaker, case_no, date(2026, 11, 2), calendar)
        # 2,400 more clocks of the same department, copied from the accepted case's clock and case row.
        async with session_scope(sessionmaker) as session:
            await session.execute(
                text(
                    "INSERT INTO case_file SELECT (left(case_no, 14) || lpad(g::text, 7, '0')) AS case_no, "
                    "gen_random_uuid(), item_code, item_name, org_code, org_name, applicant_id, applicant, channel, "
                    "form, materials, required_materials, statutory_limit_days, promised_limit_days, "
                    "missing_materials, status, submitted_at, registered_at, supplement_notice_no, "
                    "supplement_notice_text, supplement_requested_at, last_supplemented_at, acceptance_notice_no, "
                    "accepted_at, clock_start, due_date, statutory_due_date, rejection_notice_no, rejection_reason, "
                    "rejected_at, outcome, decision, licence, completed_at, on_time, working_days_used, item_version "
                    "FROM case_file, generate_series(1, 2400) AS g WHERE case_no = :case_no"
                ),
                {"case_no": case_no},
            )
            await session.execute(
                text(
                    "INSERT INTO case_deadline SELECT f.case_no, d.item_code, d.org_code, d.region_code, d.channel, "
                    "d.clock_start, d.promised_limit_days, d.statutory_limit_days, d.due_date, d.statutory_due_date, "
                    "d.warn_date, d.provisional, d.paused, d.paused_days, d.extension_days, d.extension_reason, "
                    "d.extension_approver_id, d.extension_approver_name, d.extended_at, d.warned_level, d.closed_on, "
                    "d.on_time, d.deemed_approved FROM case_deadline d, case_file f "
                    "WHERE d.case_no = :case_no AND f.case_no <> :case_no"
                ),
                {"case_no": case_no},
            )
        result = await run_sweep(sessionmaker, calendar, date(2026, 11, 5), tick=12)
        assert result.counts["case_yellow"] == 2401
        events = await outbox(sessionmaker, WARNED)
        assert [len(e["data"]["warnings"]) for e in events] == [1000, 1000, 401]
        numbers = [w["case_no"] for e in events for w in e["data"]["warnings"]]
        assert len(set(numbers)) == 2401
        assert len({e["id"] for e in events}) == 3

    async def test_step_limits_from_business_events_warn_per_step(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
        case_no: str,
        calendar: WorkingDayCalendar,
    ) -> None:
        await accept_from(sessionmaker, case_no, date(2026, 11, 2), calendar)
        case = await session_get_case(sessionmaker, case_no)
        ended = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
        data = CaseStepCompleted(
            case_no=case_no,
            application_id=case.application_id,
            step=_step("accept_review", "受理审查", ended),
            next_step_name="审查",
            next_step_key="review",
            next_step_due_date=date(2026, 11, 6),
        )
        async with session_scope(sessionmaker) as session:
            await handlers.on_step_completed(
                session, make_event(data, source="urn:yiwang:530428:business"), data
            )
        result = await run_sweep(sessionmaker, calendar, date(2026, 11, 9), tick=11)
        assert (result.counts["step_yellow"], result.counts["step_red"]) == (1, 1)
        assert (case_no, "review", "red") in await warnings(sessionmaker)
        step_warnings = [
            w
            for e in await outbox(sessionmaker, WARNED)
            for w in e["data"]["warnings"]
            if w.get("step_key") == "review"
        ]
        assert [w["step_name"] for w in step_warnings] == ["审查", "审查"]
        # The step finishes: its clock stops.
        done = CaseStepCompleted(
            case_no=case_no, application_id=case.application_id, step=_step("review", "审查", utcnow())
        )
        async with session_scope(sessionmaker) as session:
            await handlers.on_step_completed(
                session, make_event(done, source="urn:yiwang:530428:business"), done
            )
        async with sessionmaker() as session:
            ended_at = await session.scalar(
                text("SELECT ended_at FROM case_step_clock WHERE step_key = 'review'")
            )
        assert ended_at is not None


def _step(key: str, name: str, ended: Any) -> StepRecord:
    return StepRecord(
        step_key=key,
        step_name=name,
        action="pass",
        handler_id="staff-x",
        handler_name="审查王伟",
        opinion="同意",
        started_at=ended - timedelta(hours=1),
        ended_at=ended,
        org=Organisation(name="元江县住房和城乡建设局", code=ORG_CODE),
    )


class TestDeemedApproval:
    async def test_an_overrun_case_of_a_deeming_item_is_approved_by_event_and_logged(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        case_no: str,
        incomplete_case_no: str,
        calendar: WorkingDayCalendar,
    ) -> None:
        await accept_from(sessionmaker, case_no, date(2026, 11, 2), calendar)
        item_code = (await session_get_case(sessionmaker, case_no)).item_code
        rule = {"warn_days": 1, "step_warn_days": 1, "deemed_approval": True}
        assert (
            await client.put(f"/supervision/rules/{item_code}", json=rule, headers=auth(ACCEPTOR))
        ).status_code == 403
        put = await client.put(f"/supervision/rules/{item_code}", json=rule, headers=auth(SUPERVISOR))
        assert put.status_code == 200 and put.json()["deemed_approval"] is True
        # The rule moved the open case's warning date to one working day before its due date.
        assert (await clock(sessionmaker, case_no)).warn_date == date(2026, 11, 6)
        result = await run_sweep(sessionmaker, calendar, date(2026, 11, 10), tick=21)
        assert result.deemed == [case_no]
        case = await session_get_case(sessionmaker, case_no)
        assert (case.status, case.outcome, case.on_time) == ("completed", "approved", False)
        assert "承诺超时默认" in case.decision["title"]
        deemed = await outbox(sessionmaker, CaseDeemedApproved.subject)
        assert len(deemed) == 1 and deemed[0]["data"]["due_date"] == "2026-11-09"
        completed = await outbox(sessionmaker, "yiwang.management.case.completed.v1")
        assert [s["step_key"] for s in completed[0]["data"]["steps"]][-1] == "deemed_approval"
        assert (await clock(sessionmaker, case_no)).deemed_approved is True
        # Nothing happens twice: another tick finds the case closed.
        assert (await run_sweep(sessionmaker, calendar, date(2026, 11, 11), tick=22)).deemed == []


class TestInboxRepliesAndUrging:
    async def test_department_replies_in_writing_and_the_supervisor_closes(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        case_no: str,
        calendar: WorkingDayCalendar,
    ) -> None:
        await accept_from(sessionmaker, case_no, date(2026, 11, 2), calendar)
        await run_sweep(sessionmaker, calendar, date(2026, 11, 10), tick=31)
        inbox = (await client.get("/supervision/warnings?status=open", headers=auth(SUPERVISOR))).json()
        assert inbox["pagination"]["total_count"] == 2
        red = next(w for w in inbox["items"] if w["level"] == "red")
        assert red["level_name"] == "超时" and red["status_name"] == "待答复"
        foreign = Principal(sub="x", name="他局", kind="staff", roles=frozenset({"acceptor"}), org_code="X1")
        assert (await client.get("/supervision/warnings", headers=auth(foreign))).json()["pagination"][
            "total_count"
        ] == 0
        assert (
            await client.post(
                f"/supervision/warnings/{red['id']}/reply", json={"text": "x"}, headers=auth(foreign)
            )
        ).status_code == 404
        early = await client.post(f"/supervision/warnings/{red['id']}/close", headers=auth(SUPERVISOR))
        assert early.status_code == 409
        replied = await client.post(
            f"/supervision/warnings/{red['id']}/reply",
            json={"text": "专家评审延后，今日办结"},
            headers=auth(ACCEPTOR),
        )
        assert replied.status_code == 200 and replied.json()["status"] == "replied"
        closed = await client.post(f"/supervision/warnings/{red['id']}/close", headers=auth(SUPERVISOR))
        assert closed.json()["status"] == "closed" and closed.json()["closed_by"] == SUPERVISOR.name
        late = await client.post(
            f"/supervision/warnings/{red['id']}/reply", json={"text": "y"}, headers=auth(ACCEPTOR)
        )
        assert late.status_code == 409

        urged = await client.post(
            f"/cases/{case_no}/urges",
            json={"kind": "supervise", "content": "请两个工作日内办结", "warning_id": red["id"]},
            headers=auth(SUPERVISOR),
        )
        assert urged.status_code == 201, urged.text
        assert (
            await client.post(
                f"/cases/{case_no}/urges", json={"kind": "urge", "content": "x"}, headers=auth(ACCEPTOR)
            )
        ).status_code == 403
        detail = (await client.get(f"/cases/{case_no}/deadline", headers=auth(ACCEPTOR))).json()
        assert [a["kind"] for a in detail["actions"]] == ["supervise"]
        assert len(await outbox(sessionmaker, "yiwang.management.case.urged.v1")) == 1


class TestOnTimeRate:
    async def test_rate_per_department_counts_late_completions_and_open_overdue(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
        case_no: str,
        incomplete_case_no: str,
        calendar: WorkingDayCalendar,
    ) -> None:
        await accept_from(sessionmaker, case_no, date(2026, 11, 2), calendar)
        case = await session_get_case(sessionmaker, case_no)
        now = utcnow()
        decision = CaseDecided(
            case_no=case_no,
            application_id=case.application_id,
            item_code=case.item_code,
            outcome="approved",
            decision=DecisionDocument(
                document_no="元住建许〔2026〕第000009号",
                title="准予行政许可决定书",
                body="准予",
                decided_at=now,
                decider_name="决定人",
                org=Organisation(name=case.org_name, code=case.org_code),
            ),
            steps=[_step("decide", "决定", now)],
        )
        async with session_scope(sessionmaker) as session:
            await handlers.on_case_decided(
                session, make_event(decision, source="urn:yiwang:530428:business"), decision
            )
        closed = await clock(sessionmaker, case_no)
        assert (closed.closed_on, closed.on_time) == (local_date(now), False)  # due 9 Nov, decided later
        today = local_date(now)
        report = await client.get(
            f"/supervision/statistics/on-time?group_by=org&from={today - timedelta(days=40)}&to={today}",
            headers=auth(SUPERVISOR),
        )
        assert report.status_code == 200
        assert report.json()["rows"] == [
            {
                "key": ORG_CODE,
                "completed": 1,
                "on_time": 0,
                "overdue_open": 0,
                "deemed": 0,
                "extended": 0,
                "on_time_rate": 0.0,
            }
        ]
        by_region = (
            await client.get("/supervision/statistics/on-time?group_by=region", headers=auth(SUPERVISOR))
        ).json()
        assert by_region["rows"][0]["key"] == "530428"
        bad = await client.get(
            "/supervision/statistics/on-time?from=2026-12-01&to=2026-01-01", headers=auth(SUPERVISOR)
        )
        assert bad.status_code == 422


class TestOnTimeRatePerWindow:
    """按时办结率 per 受理窗口 (ADR 0122): the acceptor's window post, named by their token's ``win``."""

    async def test_each_window_counts_the_cases_it_accepted(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
        case_no: str,
        calendar: WorkingDayCalendar,
    ) -> None:
        first_window = ACCEPTOR.model_copy(update={"window": "ZH01"})
        second_window = ACCEPTOR.model_copy(update={"sub": "staff-chuangkou2", "window": "ZH02"})
        on_time_case = await register(sessionmaker, handlers, submitted())
        open_case = await register(sessionmaker, handlers, submitted())
        today = local_date(utcnow())
        # Late: clock started 40 days ago; on time: started today; open but overdue: 40 days ago.
        await accept_from(sessionmaker, case_no, today - timedelta(days=40), calendar, first_window)
        await accept_from(sessionmaker, on_time_case, today, calendar, second_window)
        await accept_from(sessionmaker, open_case, today - timedelta(days=40), calendar, ACCEPTOR)
        for number in (case_no, on_time_case):
            await _decide(sessionmaker, handlers, number)
        accepted = await session_get_case(sessionmaker, case_no)
        assert accepted.accepted_window == f"{ORG_CODE}/ZH01"
        assert (await clock(sessionmaker, on_time_case)).window_code == f"{ORG_CODE}/ZH02"
        report = await client.get(
            f"/supervision/statistics/on-time?group_by=window&from={today - timedelta(days=60)}&to={today}",
            headers=auth(SUPERVISOR),
        )
        assert report.status_code == 200, report.text
        rows = {row["key"]: row for row in report.json()["rows"]}
        assert set(rows) == {"", f"{ORG_CODE}/ZH01", f"{ORG_CODE}/ZH02"}
        late, prompt, no_window = rows[f"{ORG_CODE}/ZH01"], rows[f"{ORG_CODE}/ZH02"], rows[""]
        assert (late["completed"], late["on_time"], late["on_time_rate"]) == (1, 0, 0.0)
        assert (prompt["completed"], prompt["on_time"], prompt["on_time_rate"]) == (1, 1, 1.0)
        # Accepted by staff holding no window post, still open and past its due date.
        assert (no_window["completed"], no_window["overdue_open"]) == (0, 1)
        wrong = await client.get("/supervision/statistics/on-time?group_by=post", headers=auth(SUPERVISOR))
        assert wrong.status_code == 422


async def _decide(
    sessionmaker: async_sessionmaker[AsyncSession], handlers: CaseEventHandlers, case_no: str
) -> None:
    """准予 now, through the same handler business's ``case.decided`` reaches."""
    case = await session_get_case(sessionmaker, case_no)
    now = utcnow()
    decision = CaseDecided(
        case_no=case_no,
        application_id=case.application_id,
        item_code=case.item_code,
        outcome="approved",
        decision=DecisionDocument(
            document_no=f"元住建许〔2026〕第{case_no[-6:]}号",
            title="准予行政许可决定书",
            body="准予",
            decided_at=now,
            decider_name="决定人",
            org=Organisation(name=case.org_name, code=case.org_code),
        ),
        steps=[_step("decide", "决定", now)],
    )
    async with session_scope(sessionmaker) as session:
        await handlers.on_case_decided(
            session, make_event(decision, source="urn:yiwang:530428:business"), decision
        )


def _worker(database_url: str, tmp_path: Path) -> subprocess.Popen[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": database_url,
        "YIWANG_VAR_DIR": str(tmp_path),
        "MANAGEMENT_LOG_LEVEL": "WARNING",
    }
    command = [
        str(Path(sys.executable).parent / "yiwang-management"),
        "worker",
        "--once",
        "--interval",
        "86400",
    ]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


async def _overdue_cases(
    sessionmaker: async_sessionmaker[AsyncSession], case_nos: list[str], calendar: WorkingDayCalendar
) -> None:
    """Accepted cases already past their due date today (the worker sweeps the real today)."""
    for number in case_nos:
        await accept_from(sessionmaker, number, local_date(utcnow()) - timedelta(days=60), calendar)


class TestWorkerProcesses:
    async def test_two_workers_at_once_raise_one_warning_each(
        self,
        database_url: str,
        tmp_path: Path,
        sessionmaker: async_sessionmaker[AsyncSession],
        case_no: str,
        calendar: WorkingDayCalendar,
    ) -> None:
        await _overdue_cases(sessionmaker, [case_no], calendar)
        workers = [_worker(database_url, tmp_path) for _ in range(2)]
        reports = []
        for proc in workers:
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            reports.append(json.loads(out.strip().splitlines()[-1]))
        assert sorted(r["swept"] for r in reports) == [False, True]
        assert await warnings(sessionmaker) == [(case_no, "", "red"), (case_no, "", "yellow")]
        assert len(await outbox(sessionmaker, WARNED)) == 2

    async def test_a_worker_killed_mid_sweep_leaves_nothing_and_the_next_sweeps_all_once(
        self,
        database_url: str,
        tmp_path: Path,
        sessionmaker: async_sessionmaker[AsyncSession],
        case_no: str,
        incomplete_case_no: str,
        calendar: WorkingDayCalendar,
    ) -> None:
        await _overdue_cases(sessionmaker, [case_no], calendar)
        tick = current_tick(86400)
        # Hold the tick's sweep row in an open transaction: the worker raises its warnings, then
        # waits on that row before it can commit — mid-sweep, with its work not yet committed.
        blocker = await sessionmaker().__aenter__()
        await blocker.execute(
            text(
                "INSERT INTO supervision_sweep (tick, swept_on, worker, started_at, finished_at, counts) "
                "VALUES (:tick, CURRENT_DATE, 'blocker', now(), now(), '{}')"
            ),
            {"tick": tick},
        )
        proc = _worker(database_url, tmp_path)
        try:
            deadline = time.monotonic() + 60
            while True:
                async with sessionmaker() as session:
                    waiting = await session.scalar(
                        text(
                            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                            "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO supervision_sweep%'"
                        )
                    )
                if waiting:
                    break
                assert proc.poll() is None and time.monotonic() < deadline, (
                    proc.stderr.read() if proc.stderr else ""
                )
                await asyncio.sleep(0.1)
            assert await warnings(sessionmaker) == []  # raised but not committed
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            await blocker.rollback()
            await blocker.close()
        assert await warnings(sessionmaker) == []
        async with sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(SupervisionSweep)) == 0
        report: dict[str, Any] = {"swept": False}
        for _ in range(50):
            again = _worker(database_url, tmp_path)
            out, err = again.communicate(timeout=60)
            assert again.returncode == 0, err
            report = json.loads(out.strip().splitlines()[-1])
            if report["swept"]:
                break
            await asyncio.sleep(0.2)  # the killed worker's backend has not noticed yet
        assert report["swept"] and report["counts"]["case_red"] == 1
        assert await warnings(sessionmaker) == [(case_no, "", "red"), (case_no, "", "yellow")]
        events = await outbox(sessionmaker, WARNED)
        assert sorted(e["data"]["level"] for e in events) == ["red", "yellow"]
        assert [w["case_no"] for e in events for w in e["data"]["warnings"]] == [case_no, case_no]
