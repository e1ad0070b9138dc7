"""Case library projection: every handler upserts, in any order, without moving status backwards."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.contracts.lifecycle import CaseStatus, stage, supersedes
from yiwang_datasharing.case_record.models import CaseRecord, ExchangeLog, ProcessStep


async def record_of(sm: async_sessionmaker[AsyncSession], story: Any) -> CaseRecord:
    async with sm() as session:
        stmt = select(CaseRecord).where(CaseRecord.application_id == story.application_id)
        return (await session.execute(stmt)).scalar_one()


async def step_keys(sm: async_sessionmaker[AsyncSession], case_no: str) -> list[str]:
    async with sm() as session:
        stmt = (
            select(ProcessStep.step_key).where(ProcessStep.case_no == case_no).order_by(ProcessStep.ended_at)
        )
        return list((await session.execute(stmt)).scalars())


_STATUS_OF = {
    "CaseAccepted": CaseStatus.ACCEPTED,
    "CaseRegistered": CaseStatus.PENDING_ACCEPTANCE,
    "CaseSupplementRequested": CaseStatus.AWAITING_SUPPLEMENT,
    "CaseCompleted": CaseStatus.COMPLETED,
    "CaseRejected": CaseStatus.NOT_ACCEPTED,
}


class TestLifecycleInOrder:
    async def test_full_story_ends_completed_with_every_field_and_deduplicated_steps(
        self, deliver: Any, story: Any, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        for minute, data in enumerate(
            [
                story.submitted(),
                story.registered(),
                story.accepted(),
                story.step_completed(),
                story.decided(),
                story.completed(),
            ]
        ):
            await deliver(data, minute)
        record = await record_of(sessionmaker, story)
        assert record.status == "completed"
        assert (record.case_no, record.applicant_id, record.item_name) == (
            story.case_no,
            story.applicant_id,
            "建筑工程施工许可证核发",
        )
        assert record.outcome == "approved" and record.on_time is True
        assert (
            record.decision is not None and record.decision["document_no"] == "元住建施许〔2026〕第000001号"
        )
        assert record.licence_identifier == story.licence.identifier
        assert record.accepted_at is not None and record.completed_at is not None
        assert await step_keys(sessionmaker, story.case_no) == ["accept", "review", "decide"]

    async def test_rejection_is_terminal(
        self, deliver: Any, story: Any, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        await deliver(story.registered(), 0)
        await deliver(story.rejected(), 1)
        record = await record_of(sessionmaker, story)
        assert record.status == "not_accepted"
        assert record.rejection_reason == "不属于本机关职权范围"
        assert await step_keys(sessionmaker, story.case_no) == ["accept"]


class TestOrderTolerance:
    async def test_completed_first_then_older_events_keep_completed_and_fill_fields(
        self, deliver: Any, story: Any, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        await deliver(story.completed(), 10)
        await deliver(story.submitted(), 0)
        await deliver(story.accepted(), 2)
        record = await record_of(sessionmaker, story)
        assert record.status == "completed"
        assert record.applicant is not None and record.applicant["name"] == "张三"
        assert record.submitted_at is not None and record.form == {"project": "元江县某项目"}

    async def test_later_supplement_returns_case_to_pending_acceptance(
        self, deliver: Any, story: Any, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        await deliver(story.registered(), 0)
        await deliver(story.supplement_requested(), 1)
        assert (await record_of(sessionmaker, story)).status == "awaiting_supplement"
        await deliver(story.supplemented(), 2)
        record = await record_of(sessionmaker, story)
        assert record.status == "pending_acceptance"
        assert (
            record.supplemented_materials is not None
            and record.supplemented_materials[0]["material_code"] == "M02"
        )

    async def test_supplement_arriving_before_its_notice_still_ends_pending(
        self, deliver: Any, story: Any, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        await deliver(story.supplemented(), 2)
        await deliver(story.supplement_requested(), 1)
        await deliver(story.registered(), 0)
        assert (await record_of(sessionmaker, story)).status == "pending_acceptance"

    async def test_the_projection_follows_the_contracts_lifecycle_order(
        self, deliver: Any, story: Any, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        # Each delivery's outcome is what lifecycle.supersedes says, and the stored rank is its stage.
        current: tuple[str, datetime] | None = None
        for event, minutes in [
            (story.accepted(), 2),
            (story.registered(), 0),
            (story.supplement_requested(), 1),
            (story.completed(), 10),
            (story.rejected(), 3),
        ]:
            env = await deliver(event, minutes)
            reported = _STATUS_OF[type(event).__name__]
            if current is None or supersedes(current[0], current[1], reported, env.time):
                current = (reported, env.time)
            record = await record_of(sessionmaker, story)
            assert (record.status, record.status_rank) == (current[0], stage(current[0]))
        assert current is not None and current[0] == "completed"

    async def test_older_material_list_does_not_replace_newer_one(
        self, deliver: Any, story: Any, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        await deliver(story.accepted(), 5)
        await deliver(story.submitted(), 0)
        record = await record_of(sessionmaker, story)
        assert record.materials is not None
        assert [m["material_code"] for m in record.materials] == ["M01", "M02"]

    async def test_business_events_before_acceptance_create_the_record(
        self, deliver: Any, story: Any, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        await deliver(story.decided(with_licence=False), 3)
        await deliver(story.step_completed(), 2)
        await deliver(story.accepted(), 1)
        record = await record_of(sessionmaker, story)
        assert record.status == "accepted" and record.outcome == "approved"
        assert await step_keys(sessionmaker, story.case_no) == ["accept", "review", "decide"]


class TestExchangeLog:
    async def test_every_consumed_event_is_logged_once(
        self, deliver: Any, story: Any, sessionmaker: async_sessionmaker[AsyncSession], rows: Any
    ) -> None:
        env = await deliver(story.registered(), 0)
        await deliver(story.registered(), 0, env=env)
        await deliver(story.submitted(), 0)
        assert await rows.count(ExchangeLog, ExchangeLog.event_id == env.id) == 1
        async with sessionmaker() as session:
            logged = (
                await session.execute(select(ExchangeLog).where(ExchangeLog.event_id == env.id))
            ).scalar_one()
        assert logged.subject == "yiwang.management.case.registered.v1"
        assert (logged.case_no, logged.source) == (story.case_no, "urn:yiwang:530428:management")

    async def test_same_event_handled_twice_directly_changes_nothing_more(
        self, deliver: Any, story: Any, rows: Any
    ) -> None:
        env = await deliver(story.decided(), 3)
        await deliver(story.decided(), 3, env=env)
        assert await rows.count(ProcessStep, ProcessStep.case_no == story.case_no) == 2
