"""Incoming events of the task domain: management's accepted and deemed-approved cases, joint parts
and their 补正."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_business.clock import local_date
from yiwang_business.task.actions import case_actions
from yiwang_business.task.service import task_service
from yiwang_business.task.worker import event_source
from yiwang_common.contracts.common import StepRecord
from yiwang_common.contracts.management import (
    CaseAccepted,
    CaseDeemedApproved,
    JointPartDispatched,
    JointPartSupplemented,
)
from yiwang_common.events import EventEnvelope, Subscription

log = logging.getLogger(__name__)


async def on_case_accepted(session: AsyncSession, envelope: EventEnvelope, data: CaseAccepted) -> None:
    """已受理 → take the case over and open its first task (ignored if the case is already here)."""
    await task_service.take_over(session, accepted=data)


async def on_joint_part_dispatched(
    session: AsyncSession, envelope: EventEnvelope, data: JointPartDispatched
) -> None:
    """联办分派 → a part for the built-in workflow is taken over like an accepted case, under its part number."""
    if data.handler != "builtin":
        return
    accepted = CaseAccepted(
        case_no=data.part_no,
        application_id=data.application_id,
        item_code=data.item_code,
        item_name=data.item_name,
        implementing_org=data.department,
        applicant=data.applicant,
        form=data.form,
        materials=data.materials,
        acceptance_notice_no=f"{data.joint_no}-联办受理",
        handler_name="联办窗口",
        accepted_at=data.accepted_at,
        clock_start=local_date(data.accepted_at),
        promised_limit_days=data.limit_days,
        due_date=data.due_date,
        statutory_due_date=data.due_date,
        step=StepRecord(
            step_key="joint_accept",
            step_name="联办受理",
            action="pass",
            handler_id="joint",
            handler_name="联办窗口",
            started_at=data.accepted_at,
            ended_at=data.accepted_at,
            org=data.department,
        ),
    )
    await task_service.take_over(session, accepted=accepted)


async def on_joint_part_supplemented(
    session: AsyncSession, envelope: EventEnvelope, data: JointPartSupplemented
) -> None:
    """联办分件已补正 → the applicant's correction of the part: its clock runs, its step goes on."""
    # The part number starts with its region's code, as the runtime's source does.
    source = event_source(data.part_no[:6])
    if not await case_actions.correct_joint_part(session, data=data, source=source):
        log.info(
            "joint part supplement left alone: not waiting on the applicant", extra={"case_no": data.part_no}
        )


async def on_case_deemed_approved(
    session: AsyncSession, envelope: EventEnvelope, data: CaseDeemedApproved
) -> None:
    """承诺超时默认 → close the case's open tasks as approved (a redelivery finds it decided)."""
    await task_service.close_deemed_approved(session, deemed=data)


management_subscription = Subscription(
    durable="business__management",
    source="management",
    handlers={
        CaseAccepted: on_case_accepted,
        JointPartDispatched: on_joint_part_dispatched,
        JointPartSupplemented: on_joint_part_supplemented,
        CaseDeemedApproved: on_case_deemed_approved,
    },
)
