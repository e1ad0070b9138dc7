"""办件时限 Deadlines that stay true: one computation from the clock's facts, applied on every change.

A case's due date is always ``add_working_days(clock_start, limit + paused + extension)`` on the
calendar of the moment, where *paused* counts the working days of its finished pauses. Acceptance,
a pause ending, the one extension, a changed rule and a newly loaded holiday schedule all run the
same computation, and each change of the due date is recorded with its reason (CaseDueChange).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.calendar import WorkingDayCalendar
from yiwang_common.contracts.business import CaseStepCompleted
from yiwang_common.db import utcnow
from yiwang_management.config import SupervisionSettings
from yiwang_management.shared import local_date
from yiwang_management.supervision.models import CHANGE_REASONS, CaseDeadline, CasePause, SupervisionRule
from yiwang_management.supervision.repository import MAX_WARN_DAYS, DeadlineRepository, RuleRepository

DEFAULTS = SupervisionSettings()
SYSTEM = "系统"


@dataclass(frozen=True)
class Clock:
    """What the computation yields."""

    due_date: date
    statutory_due_date: date
    warn_date: date
    provisional: bool
    paused_days: int


def paused_working_days(calendar: WorkingDayCalendar, pauses: Iterable[CasePause]) -> int:
    """Working days the clock stood still: after each pause's first day up to its last."""
    return sum(
        calendar.working_days_between(p.started_on, p.ended_on) for p in pauses if p.ended_on is not None
    )


def compute(
    calendar: WorkingDayCalendar,
    *,
    clock_start: date,
    promised_limit_days: int,
    statutory_limit_days: int,
    paused_days: int,
    extension_days: int,
    warn_days: int,
) -> Clock:
    """The due dates, the warning date and whether they rest on a year without a schedule (暂定)."""
    extra = paused_days + extension_days
    due = calendar.add_working_days(clock_start, promised_limit_days + extra)
    statutory = calendar.add_working_days(clock_start, statutory_limit_days + extra)
    warn = max(clock_start, calendar.subtract_working_days(due, warn_days))
    provisional = bool(calendar.unknown_years(clock_start, max(due, statutory)))
    return Clock(due, statutory, warn, provisional, paused_days)


def warn_days_of(rule: SupervisionRule | None, defaults: SupervisionSettings) -> int:
    """The item's threshold, else the configured default."""
    return rule.warn_days if rule is not None else defaults.warn_days


def _change(
    case_no: str, old: CaseDeadline | None, new: Clock, reason: str, note: str, by: str, at: datetime
) -> dict[str, Any]:
    return {
        "case_no": case_no,
        "old_due_date": old.due_date if old is not None else None,
        "new_due_date": new.due_date,
        "old_provisional": old.provisional if old is not None else None,
        "new_provisional": new.provisional,
        "reason": reason,
        "note": note or CHANGE_REASONS[reason],
        "changed_by": by,
        "changed_at": at,
    }


async def open_clock(
    session: AsyncSession,
    *,
    case_no: str,
    item_code: str,
    org_code: str,
    channel: str,
    clock_start: date,
    promised_limit_days: int,
    statutory_limit_days: int,
    calendar: WorkingDayCalendar,
    defaults: SupervisionSettings = DEFAULTS,
    by: str,
    window: str | None = None,
) -> Clock:
    """受理 Start the clock of a case with the first line of its history (one round trip).

    The warning date depends on the item's rule, read in the same statement: every candidate date
    goes along and the rule's threshold picks one.
    """
    clock = compute(
        calendar,
        clock_start=clock_start,
        promised_limit_days=promised_limit_days,
        statutory_limit_days=statutory_limit_days,
        paused_days=0,
        extension_days=0,
        warn_days=defaults.warn_days,
    )
    note = "受理起算" + ("（跨越未发布节假日安排的年份，暂定）" if clock.provisional else "")
    await DeadlineRepository.from_session(session).open_clock(
        {
            "case_no": case_no,
            "item_code": item_code,
            "org_code": org_code,
            "region_code": case_no[:6],
            "channel": channel,
            "window_code": window,
            "clock_start": clock_start,
            "promised": promised_limit_days,
            "statutory": statutory_limit_days,
            "due_date": clock.due_date,
            "statutory_due_date": clock.statutory_due_date,
            "warn_dates": calendar.warning_dates(clock.due_date, MAX_WARN_DAYS),
            "default_warn_days": defaults.warn_days,
            "provisional": clock.provisional,
            "note": note,
            "changed_by": by,
            "changed_at": utcnow(),
        }
    )
    return clock


async def apply(
    session: AsyncSession,
    deadline: CaseDeadline,
    *,
    calendar: WorkingDayCalendar,
    pauses: Sequence[CasePause],
    warn_days: int,
    reason: str,
    note: str,
    by: str,
) -> dict[str, Any] | None:
    """Recompute one tracked clock; returns its history row when the due date or flag moved."""
    clock = compute(
        calendar,
        clock_start=deadline.clock_start,
        promised_limit_days=deadline.promised_limit_days,
        statutory_limit_days=deadline.statutory_limit_days,
        paused_days=paused_working_days(calendar, pauses),
        extension_days=deadline.extension_days,
        warn_days=warn_days,
    )
    moved = (clock.due_date, clock.provisional) != (deadline.due_date, deadline.provisional)
    change = _change(deadline.case_no, deadline, clock, reason, note, by, utcnow()) if moved else None
    repository = DeadlineRepository.from_session(session)
    if clock.due_date != deadline.due_date or clock.statutory_due_date != deadline.statutory_due_date:
        await repository.set_case_due(deadline.case_no, clock.due_date, clock.statutory_due_date)
    values: dict[str, Any] = {
        "due_date": clock.due_date,
        "statutory_due_date": clock.statutory_due_date,
        "warn_date": clock.warn_date,
        "provisional": clock.provisional,
        "paused_days": clock.paused_days,
    }
    if clock.due_date != deadline.due_date:
        # Warnings are per due date: the sweep warns against the new one as it nears (a case resumed
        # after 补正 or extended has been given more time; one whose date came nearer is warned now).
        values["warned_level"] = 0
    await repository.update(deadline, update_dict=values)
    return change


async def recompute_many(
    session: AsyncSession,
    deadlines: Sequence[CaseDeadline],
    *,
    calendar: WorkingDayCalendar,
    defaults: SupervisionSettings,
    reason: str,
    note: str,
    by: str,
) -> int:
    """Recompute several clocks in one go; returns how many due dates (or flags) moved."""
    repository = DeadlineRepository.from_session(session)
    rules = RuleRepository.from_session(session)
    pauses: dict[str, list[CasePause]] = {}
    for pause in await repository.pauses_of([d.case_no for d in deadlines]):
        pauses.setdefault(pause.case_no, []).append(pause)
    warn: dict[str, int] = {}
    changes = []
    for deadline in deadlines:
        if deadline.item_code not in warn:
            warn[deadline.item_code] = warn_days_of(await rules.get(deadline.item_code), defaults)
        change = await apply(
            session,
            deadline,
            calendar=calendar,
            pauses=pauses.get(deadline.case_no, []),
            warn_days=warn[deadline.item_code],
            reason=reason,
            note=note,
            by=by,
        )
        if change is not None:
            changes.append(change)
    await repository.add_changes(changes)
    return len(changes)


async def recompute_for_years(
    session: AsyncSession,
    years: Sequence[int],
    *,
    calendar: WorkingDayCalendar,
    defaults: SupervisionSettings,
    note: str,
    by: str,
    batch: int = 1000,
) -> int:
    """A schedule for ``years`` arrived: recompute every open clock that spans them or is provisional."""
    repository = DeadlineRepository.from_session(session)
    first, last = date(min(years), 1, 1), date(max(years), 12, 31)
    moved, after = 0, ""
    while True:
        rows = await repository.open_touching(first, last, limit=batch, after=after)
        if not rows:
            return moved
        moved += await recompute_many(
            session, rows, calendar=calendar, defaults=defaults, reason="schedule_loaded", note=note, by=by
        )
        after = rows[-1].case_no


def known_until(calendar: WorkingDayCalendar, today: date) -> date | None:
    """The last day of the run of years with a schedule that contains ``today``'s year."""
    if not calendar.knows(today.year):
        return None
    year = today.year
    while calendar.knows(year + 1):
        year += 1
    return date(year, 12, 31)


async def recheck_provisional(
    session: AsyncSession,
    *,
    calendar: WorkingDayCalendar,
    defaults: SupervisionSettings,
    today: date,
    limit: int = 1000,
) -> int:
    """Provisional clocks whose years all have schedules now (accepted by a replica with a stale copy)."""
    until = known_until(calendar, today)
    if until is None:
        return 0
    rows = await DeadlineRepository.from_session(session).stale_provisional(until, limit=limit)
    return await recompute_many(
        session,
        rows,
        calendar=calendar,
        defaults=defaults,
        reason="schedule_loaded",
        note="节假日安排已发布，重新计算（暂定转正式）",
        by=SYSTEM,
    )


async def close_clock(
    session: AsyncSession, case_no: str, closed_on: date, on_time: bool, *, ended_at: datetime
) -> None:
    """办结 Stop a case's clocks."""
    await DeadlineRepository.from_session(session).close(case_no, closed_on, on_time, ended_at=ended_at)


async def record_step(
    session: AsyncSession,
    data: CaseStepCompleted,
    *,
    calendar: WorkingDayCalendar,
    defaults: SupervisionSettings = DEFAULTS,
) -> None:
    """环节时限 The finished step's clock stops; the next step's starts when the event carries its limit."""
    repository = DeadlineRepository.from_session(session)
    await repository.end_step_clocks(data.case_no, data.step.step_key, data.step.ended_at)
    if data.next_step_due_date is None:
        return
    head = await repository.case_head(data.case_no)
    if head is None:
        return
    rule = await RuleRepository.from_session(session).get(head.item_code)
    warn_days = rule.step_warn_days if rule is not None else defaults.step_warn_days
    started = local_date(data.step.ended_at)
    await repository.start_step_clock(
        {
            "case_no": data.case_no,
            "step_key": data.next_step_key or data.next_step_name or "next",
            "step_name": data.next_step_name or data.next_step_key or "下一环节",
            "item_code": head.item_code,
            "org_code": head.org_code,
            "region_code": data.case_no[:6],
            "started_at": data.step.ended_at,
            "due_date": data.next_step_due_date,
            "warn_date": max(started, calendar.subtract_working_days(data.next_step_due_date, warn_days)),
            "warned_level": 0,
        }
    )


async def end_step_clock(session: AsyncSession, case_no: str, step_key: str, ended_at: datetime) -> None:
    """A step outside the workflow (送达) finished: its clock stops."""
    await DeadlineRepository.from_session(session).end_step_clocks(case_no, step_key, ended_at)


#: The step clock of 容缺材料补齐: ``supply_by`` supervised like a step's limit (ADR 0119).
DEFERRED_STEP_KEY = "deferred_supply"
DEFERRED_STEP_NAME = "容缺材料补齐"


async def open_deferred_clock(
    session: AsyncSession,
    *,
    case_no: str,
    item_code: str,
    org_code: str,
    supply_by: date,
    started_at: datetime,
    calendar: WorkingDayCalendar,
    defaults: SupervisionSettings = DEFAULTS,
) -> None:
    """容缺受理 The owed materials' date becomes a step clock: yellow before it, red once it passed.

    The threshold is the item's step threshold (else the default); the sweep raises the warnings
    like any step's, and they reach the unit's inbox (``GET /supervision/warnings``).
    """
    rule = await RuleRepository.from_session(session).get(item_code)
    warn_days = rule.step_warn_days if rule is not None else defaults.step_warn_days
    started = local_date(started_at)
    await DeadlineRepository.from_session(session).start_step_clock(
        {
            "case_no": case_no,
            "step_key": DEFERRED_STEP_KEY,
            "step_name": DEFERRED_STEP_NAME,
            "item_code": item_code,
            "org_code": org_code,
            "region_code": case_no[:6],
            "started_at": started_at,
            "due_date": supply_by,
            "warn_date": max(started, calendar.subtract_working_days(supply_by, warn_days)),
            "warned_level": 0,
        }
    )


async def end_deferred_clock(session: AsyncSession, case_no: str, ended_at: datetime) -> None:
    """The owed materials arrived, or the case was returned: the 容缺 clock stops."""
    await DeadlineRepository.from_session(session).end_step_clocks(case_no, DEFERRED_STEP_KEY, ended_at)
