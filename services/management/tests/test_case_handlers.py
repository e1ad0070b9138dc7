"""Case event handlers: registration, supplements, business steps, decisions, and inbox replay."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta

import pytest
from management_factories import (
    ACCEPTOR,
    ALL_MATERIALS,
    ORG_CODE,
    count,
    load_case,
    material,
    outbox,
    register,
    submitted,
    supplement,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.calendar import WorkingDayCalendar
from yiwang_common.checkdigits import mod37_36_valid
from yiwang_common.contracts.business import CaseDecided, CaseStepCompleted
from yiwang_common.contracts.common import DecisionDocument, Organisation, StepRecord
from yiwang_common.db import session_scope, utcnow
from yiwang_common.events import RetryLater, make_event
from yiwang_management.case import service as case_service
from yiwang_management.case.handlers import CaseEventHandlers
from yiwang_management.case.models import Case, CaseStep
from yiwang_management.case.repository import AnyCase, CaseRecord, CaseRepository
from yiwang_management.case.schemas import NoticeMaterial
from yiwang_management.shared import CHINA_TZ, local_date

BUSINESS_SOURCE = "urn:yiwang:530428:business"
ORG = Organisation(name="元江县住房和城乡建设局", code=ORG_CODE)


async def notice(
    sessionmaker: async_sessionmaker[AsyncSession],
    case_no: str,
    requested: list[NoticeMaterial] | None = None,
) -> None:
    async with session_scope(sessionmaker) as session:
        await case_service.issue_supplement_notice(
            session, case_no=case_no, principal=ACCEPTOR, requested=requested, note=None, source="test"
        )


async def accept(
    sessionmaker: async_sessionmaker[AsyncSession], case_no: str, calendar: WorkingDayCalendar
) -> CaseRecord:
    async with session_scope(sessionmaker) as session:
        return await case_service.accept_case(
            session, case_no=case_no, principal=ACCEPTOR, opinion="予以受理", calendar=calendar, source="test"
        )


def step(key: str, name: str, ended: datetime) -> StepRecord:
    return StepRecord(
        step_key=key,
        step_name=name,
        action="pass",
        handler_id=f"staff-{key}",
        handler_name=f"{name}人",
        opinion="同意",
        started_at=ended - timedelta(hours=1),
        ended_at=ended,
        org=ORG,
    )


def decided(case: AnyCase, decided_at: datetime, review: StepRecord) -> CaseDecided:
    return CaseDecided(
        case_no=case.case_no,
        application_id=case.application_id,
        item_code=case.item_code,
        outcome="approved",
        decision=DecisionDocument(
            document_no="元住建许〔2026〕第000001号",
            title="准予行政许可决定书",
            body="准予核发建筑工程施工许可证。",
            decided_at=decided_at,
            decider_name="决定人",
            org=ORG,
        ),
        steps=[review, step("decide", "决定", decided_at)],
    )


class TestRegisterCase:
    async def test_case_number_has_region_date_sequence_and_check(
        self, sessionmaker: async_sessionmaker[AsyncSession], handlers: CaseEventHandlers, item: str
    ) -> None:
        first = await register(sessionmaker, handlers, submitted())
        second = await register(sessionmaker, handlers, submitted())
        today = local_date(utcnow()).strftime("%Y%m%d")
        assert len(first) == 21 and first.startswith(f"530428{today}000001")
        assert second[:20] == f"530428{today}000002"
        assert mod37_36_valid(first) and mod37_36_valid(second)

    async def test_registration_precheck_lists_missing_materials(
        self, sessionmaker: async_sessionmaker[AsyncSession], incomplete_case_no: str
    ) -> None:
        case = await load_case(sessionmaker, incomplete_case_no)
        assert case.status == "pending_acceptance"
        assert [m["code"] for m in case.missing_materials] == ["M03", "M08"]
        assert case.org_code == ORG_CODE and case.promised_limit_days == 5

    async def test_registration_emits_case_registered_and_apply_step(
        self, sessionmaker: async_sessionmaker[AsyncSession], incomplete_case_no: str
    ) -> None:
        (event,) = await outbox(sessionmaker, "yiwang.management.case.registered.v1")
        assert event["subject"] == incomplete_case_no == event["correlationid"]
        assert event["data"]["case_no"] == incomplete_case_no
        assert [m["code"] for m in event["data"]["missing_materials"]] == ["M03", "M08"]
        async with session_scope(sessionmaker) as session:
            (apply_step,) = await CaseRepository.from_session(session).steps(incomplete_case_no)
        assert (apply_step.step_key, apply_step.step_name, apply_step.handler_id) == (
            "apply",
            "申请",
            "acct-zhangsan",
        )
        assert apply_step.started_at == apply_step.ended_at

    async def test_unknown_item_retries_later_and_writes_nothing(
        self, sessionmaker: async_sessionmaker[AsyncSession], handlers: CaseEventHandlers
    ) -> None:
        with pytest.raises(RetryLater):
            await register(sessionmaker, handlers, submitted())
        assert await count(sessionmaker, Case) == 0
        assert await outbox(sessionmaker) == []

    async def test_same_application_twice_makes_one_case(
        self, sessionmaker: async_sessionmaker[AsyncSession], handlers: CaseEventHandlers, item: str
    ) -> None:
        data = submitted()
        first = await register(sessionmaker, handlers, data)
        assert await register(sessionmaker, handlers, data) == first
        assert await count(sessionmaker, Case) == 1
        assert len(await outbox(sessionmaker)) == 1


class TestCaseSequence:
    async def test_concurrent_numbers_are_distinct_and_dense(
        self, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        day = local_date(utcnow())

        async def take() -> int:
            async with session_scope(sessionmaker) as session:
                return await CaseRepository.from_session(session).next_sequence("530428", day)

        values = await asyncio.gather(*(take() for _ in range(20)))
        assert sorted(values) == list(range(1, 21))

    async def test_sequences_are_per_region(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        day = local_date(utcnow())
        async with session_scope(sessionmaker) as session:
            repository = CaseRepository.from_session(session)
            assert await repository.next_sequence("530428", day) == 1
            assert await repository.next_sequence("530402", day) == 1
            assert await repository.next_sequence("530428", day) == 2


class TestApplicationSupplemented:
    async def test_complete_supplement_returns_case_to_acceptance_with_clock_start(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
        incomplete_case_no: str,
    ) -> None:
        await notice(sessionmaker, incomplete_case_no)
        # 23:30 UTC is already the next day in Asia/Shanghai.
        arrived = datetime.combine(local_date(utcnow()), time(23, 30), tzinfo=UTC)
        await supplement(sessionmaker, handlers, incomplete_case_no, ["M03", "M08"], at=arrived)
        case = await load_case(sessionmaker, incomplete_case_no)
        assert case.status == "pending_acceptance"
        assert case.missing_materials == []
        assert (
            case.clock_start
            == arrived.astimezone(CHINA_TZ).date()
            == local_date(utcnow()) + timedelta(days=1)
        )
        assert sorted(m["material_code"] for m in case.materials) == sorted(ALL_MATERIALS)

    async def test_partial_supplement_keeps_waiting_for_the_rest(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
        incomplete_case_no: str,
    ) -> None:
        await notice(sessionmaker, incomplete_case_no)
        await supplement(sessionmaker, handlers, incomplete_case_no, ["M03"])
        case = await load_case(sessionmaker, incomplete_case_no)
        assert case.status == "awaiting_supplement"
        assert [m["code"] for m in case.missing_materials] == ["M08"]
        assert case.clock_start is None

    async def test_supplement_replaces_materials_of_the_same_code(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
        incomplete_case_no: str,
    ) -> None:
        # The notice asks again for M01 (e.g. illegible), so a new M01 replaces the old one.
        requested = [
            NoticeMaterial(code=c, reason="模糊不清" if c == "M01" else "未提交")
            for c in ("M01", "M03", "M08")
        ]
        await notice(sessionmaker, incomplete_case_no, requested)
        await supplement(sessionmaker, handlers, incomplete_case_no, ["M01", "M03", "M08"])
        case = await load_case(sessionmaker, incomplete_case_no)
        m01 = [m for m in case.materials if m["material_code"] == "M01"]
        assert len(m01) == 1 and m01[0]["sha256"] == material("M01", "supplement").sha256

    async def test_supplement_when_not_awaiting_is_ignored(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
        incomplete_case_no: str,
    ) -> None:
        await supplement(sessionmaker, handlers, incomplete_case_no, ["M03", "M08"])
        case = await load_case(sessionmaker, incomplete_case_no)
        assert [m["code"] for m in case.missing_materials] == ["M03", "M08"]
        assert case.last_supplemented_at is None

    async def test_supplement_from_another_applicant_is_ignored(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
        incomplete_case_no: str,
    ) -> None:
        await notice(sessionmaker, incomplete_case_no)
        await supplement(sessionmaker, handlers, incomplete_case_no, ["M03", "M08"], applicant_id="acct-lisi")
        assert (await load_case(sessionmaker, incomplete_case_no)).status == "awaiting_supplement"


class TestBusinessEvents:
    async def test_step_completed_is_recorded_once(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
        calendar: WorkingDayCalendar,
        case_no: str,
    ) -> None:
        case = await accept(sessionmaker, case_no, calendar)
        data = CaseStepCompleted(
            case_no=case_no, application_id=case.application_id, step=step("review", "审查", utcnow())
        )
        for _ in range(2):
            async with session_scope(sessionmaker) as session:
                await handlers.on_step_completed(session, make_event(data, source=BUSINESS_SOURCE), data)
        async with session_scope(sessionmaker) as session:
            keys = [s.step_key for s in await CaseRepository.from_session(session).steps(case_no)]
        assert keys == ["apply", "accept", "review"]

    async def test_decision_completes_on_time_with_every_step_in_order(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
        calendar: WorkingDayCalendar,
        case_no: str,
    ) -> None:
        case = await accept(sessionmaker, case_no, calendar)
        review = step("review", "审查", utcnow())
        progress = CaseStepCompleted(case_no=case_no, application_id=case.application_id, step=review)
        data = decided(case, utcnow() + timedelta(seconds=1), review)
        async with session_scope(sessionmaker) as session:
            await handlers.on_step_completed(session, make_event(progress, source=BUSINESS_SOURCE), progress)
            await handlers.on_case_decided(session, make_event(data, source=BUSINESS_SOURCE), data)
        done = await load_case(sessionmaker, case_no)
        assert (done.status, done.outcome, done.on_time, done.working_days_used) == (
            "completed",
            "approved",
            True,
            0,
        )
        (event,) = await outbox(sessionmaker, "yiwang.management.case.completed.v1")
        assert [s["step_key"] for s in event["data"]["steps"]] == ["apply", "accept", "review", "decide"]
        assert event["data"]["on_time"] is True
        assert event["data"]["due_date"] == done.due_date.isoformat()  # type: ignore[union-attr]

    async def test_late_decision_is_not_on_time(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
        calendar: WorkingDayCalendar,
        case_no: str,
    ) -> None:
        case = await accept(sessionmaker, case_no, calendar)
        assert case.due_date is not None and case.clock_start is not None
        late_day = calendar.add_working_days(case.due_date, 2)
        decided_at = datetime.combine(late_day, time(10, 0), tzinfo=CHINA_TZ)
        data = decided(case, decided_at, step("review", "审查", decided_at - timedelta(hours=2)))
        async with session_scope(sessionmaker) as session:
            await handlers.on_case_decided(session, make_event(data, source=BUSINESS_SOURCE), data)
        done = await load_case(sessionmaker, case_no)
        assert done.on_time is False
        assert done.working_days_used == calendar.working_days_between(case.clock_start, late_day) == 7

    async def test_second_decision_is_ignored(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
        calendar: WorkingDayCalendar,
        case_no: str,
    ) -> None:
        case = await accept(sessionmaker, case_no, calendar)
        now = utcnow()
        for data in (
            decided(case, now, step("review", "审查", now)),
            decided(case, now, step("review", "审查", now)),
        ):
            async with session_scope(sessionmaker) as session:
                await handlers.on_case_decided(session, make_event(data, source=BUSINESS_SOURCE), data)
        assert len(await outbox(sessionmaker, "yiwang.management.case.completed.v1")) == 1
        assert await count(sessionmaker, CaseStep) == 4

    async def test_decision_for_a_case_not_accepted_is_ignored(
        self, sessionmaker: async_sessionmaker[AsyncSession], handlers: CaseEventHandlers, case_no: str
    ) -> None:
        case = await load_case(sessionmaker, case_no)
        data = decided(case, utcnow(), step("review", "审查", utcnow()))
        async with session_scope(sessionmaker) as session:
            await handlers.on_case_decided(session, make_event(data, source=BUSINESS_SOURCE), data)
        assert (await load_case(sessionmaker, case_no)).status == "pending_acceptance"
        assert await outbox(sessionmaker, "yiwang.management.case.completed.v1") == []
