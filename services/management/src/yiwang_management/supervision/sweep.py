"""The deadline sweep (电子监察巡检): once per tick across replicas, all or nothing.

One transaction per tick: ``pg_try_advisory_xact_lock`` keeps a second replica out while one
sweeps, the ``supervision_sweep`` row of the tick (committed last, with the warnings and their
outbox rows) keeps later replicas from sweeping the tick again, and the unique key
(case, step, level) of a warning makes a repeated sweep raise nothing twice. A worker killed
mid-sweep commits nothing: the next poll (its own after a restart, or another replica's) sweeps the
tick in full.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.calendar import WorkingDayCalendar
from yiwang_common.contracts.common import DecisionDocument, Organisation, StepRecord
from yiwang_common.contracts.management import CaseCompleted, CaseDeemedApproved
from yiwang_common.db import session_scope, utcnow
from yiwang_common.events import enqueue, make_event
from yiwang_management.case import events as case_events
from yiwang_management.case.repository import CaseRepository
from yiwang_management.config import SupervisionSettings
from yiwang_management.db import messaging
from yiwang_management.delivery import service as delivery_service
from yiwang_management.shared import local_date
from yiwang_management.supervision import deadlines, events
from yiwang_management.supervision.calendar_store import CalendarSync
from yiwang_management.supervision.models import LEVEL_RANK, RED, YELLOW
from yiwang_management.supervision.repository import DeadlineRepository, WarningRepository

log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    """What one tick's sweep did."""

    tick: int
    swept_on: date
    counts: dict[str, int] = field(default_factory=dict)
    deemed: list[str] = field(default_factory=list)


async def sweep(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    tick: int,
    calendar: WorkingDayCalendar,
    defaults: SupervisionSettings,
    source: str,
    worker: str,
    today: date | None = None,
    sync: CalendarSync | None = None,
) -> SweepResult | None:
    """Sweep one tick; None when another replica holds the sweep or has swept this tick."""
    async with session_scope(sessionmaker) as session:
        warnings = WarningRepository.from_session(session)
        if not await warnings.try_sweep_lock() or await warnings.tick_done(tick):
            return None
        started = utcnow()
        day = today or local_date(started)
        if sync is not None:
            await sync.refresh(session, force=True)
        result = SweepResult(tick=tick, swept_on=day)
        result.counts["recomputed"] = await deadlines.recheck_provisional(
            session, calendar=calendar, defaults=defaults, today=day
        )
        red_cases: list[str] = []
        for scope in ("case", "step"):
            for level in (YELLOW, RED):
                raised, case_nos = await warnings.sweep_level(
                    scope, level, LEVEL_RANK[level], today=day, now=started, tick=tick, source=source
                )
                result.counts[f"{scope}_{level}"] = raised
                if scope == "case" and level == RED:
                    red_cases = case_nos
        for row in await DeadlineRepository.from_session(session).deeming(red_cases):
            if await deem_approved(
                session, row.case_no, due_date=row.due_date, now=started, calendar=calendar, source=source
            ):
                result.deemed.append(row.case_no)
        result.counts["deemed"] = len(result.deemed)
        await warnings.record_sweep(
            {
                "tick": tick,
                "swept_on": day,
                "worker": worker[:100],
                "started_at": started,
                "finished_at": utcnow(),
                "counts": result.counts,
            }
        )
    log.info("supervision sweep", extra={"tick": tick, **result.counts})
    return result


async def deem_approved(
    session: AsyncSession,
    case_no: str,
    *,
    due_date: date,
    now: datetime,
    calendar: WorkingDayCalendar,
    source: str,
) -> bool:
    """承诺超时默认 Approve an overrun case of an item that says so, and issue the decision by event."""
    repository = DeadlineRepository.from_session(session)
    head = await repository.case_head(case_no, for_update=True)
    if head is None or head.status != "accepted" or head.clock_start is None:
        return False
    org = Organisation(name=head.org_name, code=head.org_code)
    day = local_date(now)
    decision = DecisionDocument(
        document_no=f"超时默认〔{day.year}〕{case_no}",
        title="准予行政许可决定书（承诺超时默认）",
        body=(
            f"办件 {case_no} 已超过承诺办结期限（{due_date}），依承诺超时默认制视为准予。"
            "申请人如对本决定不服，可依法申请行政复议或者提起行政诉讼。"
        ),
        decided_at=now,
        decider_name="电子监察系统（承诺超时默认）",
        org=org,
    )
    used = calendar.working_days_between(head.clock_start, day)
    if not await repository.complete_case(
        case_no,
        {
            "status": "completed",
            "outcome": "approved",
            "decision": decision.model_dump(mode="json"),
            "completed_at": now,
            "on_time": False,
            "working_days_used": used,
        },
    ):
        return False
    await repository.close(case_no, day, False, ended_at=now, deemed=True)
    # The deemed decision is delivered like any other, within five working days (ADR 0113).
    await delivery_service.start(session, head, decided_at=now, calendar=calendar)
    cases = CaseRepository.from_session(session)
    step = StepRecord(
        step_key="deemed_approval",
        step_name="承诺超时默认",
        action="pass",
        handler_id="supervision",
        handler_name="电子监察系统",
        opinion=f"超过承诺办结期限 {due_date}，视为准予",
        started_at=now,
        ended_at=now,
        org=org,
    )
    await cases.insert_steps(case_no, [step])
    steps = [case_events.step_record(s) for s in await cases.steps(case_no)]
    deemed = CaseDeemedApproved(
        case_no=case_no,
        application_id=head.application_id,
        item_code=head.item_code,
        due_date=due_date,
        decision=decision,
        deemed_at=now,
    )
    completed = CaseCompleted(
        case_no=case_no,
        application_id=head.application_id,
        applicant_id=head.applicant_id,
        item_code=head.item_code,
        outcome="approved",
        decision=decision,
        completed_at=now,
        due_date=due_date,
        on_time=False,
        working_days_used=used,
        steps=steps,
    )
    await enqueue(
        session,
        messaging.outbox,
        events.deemed_event(deemed, source=source),
        make_event(completed, source=source, subject=case_no, correlation_id=case_no),
    )
    log.warning("case deemed approved on overrun", extra={"case_no": case_no, "due_date": str(due_date)})
    return True
