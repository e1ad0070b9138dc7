"""Rules of e-supervision: pauses, the one extension, rules per item, the supervisor's inbox with
the department's written reply, 催办 / 督办, on-time statistics and loading holiday schedules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import ROLE_ADMIN, ROLE_SUPERVISOR, Principal
from yiwang_common.calendar import (
    HolidaySchedule,
    ScheduleInvalid,
    WorkingDayCalendar,
    packaged_schedules,
    parse_schedule,
)
from yiwang_common.contracts.management import CaseUrged
from yiwang_common.db import utcnow
from yiwang_common.events import enqueue
from yiwang_management.config import SupervisionSettings
from yiwang_management.db import messaging
from yiwang_management.shared import local_date
from yiwang_management.supervision import deadlines, events
from yiwang_management.supervision.errors import (
    AlreadyExtended,
    AlreadyPaused,
    ClockClosed,
    DeadlineNotFound,
    ExtensionTooLong,
    NotPaused,
    ScheduleNotFound,
    ScheduleRejected,
    WarningNotFound,
    WarningStateConflict,
)
from yiwang_management.supervision.models import (
    CLOSED,
    OPEN,
    PAUSE_KINDS,
    REPLIED,
    CaseDeadline,
    CaseDueChange,
    CasePause,
    CaseStepClock,
    SupervisionAction,
    SupervisionRule,
    SupervisionWarning,
)
from yiwang_management.supervision.repository import (
    DeadlineRepository,
    RuleRepository,
    ScheduleRepository,
    WarningRepository,
)


def sees_every_unit(principal: Principal) -> bool:
    """电子监察 and the centre's administrators supervise every unit; others only their own."""
    return bool(principal.roles & {ROLE_SUPERVISOR, ROLE_ADMIN})


async def _visible_clock(
    session: AsyncSession, case_no: str, principal: Principal, *, for_update: bool = False
) -> CaseDeadline:
    deadline = await DeadlineRepository.from_session(session).get(case_no, for_update=for_update)
    if deadline is None or not (sees_every_unit(principal) or deadline.org_code == principal.org_code):
        raise DeadlineNotFound(f"办件 {case_no} 尚未受理或不存在")
    return deadline


@dataclass(frozen=True)
class DeadlineView:
    """A case's clock with everything that moved it."""

    deadline: CaseDeadline
    pauses: Sequence[CasePause]
    history: Sequence[CaseDueChange]
    steps: Sequence[CaseStepClock]
    warnings: Sequence[SupervisionWarning]
    actions: Sequence[SupervisionAction]


async def deadline_view(session: AsyncSession, case_no: str, principal: Principal) -> DeadlineView:
    """办理时限 of a case: due dates, pauses, extension, history, step clocks, warnings, 督办."""
    deadline = await _visible_clock(session, case_no, principal)
    repository = DeadlineRepository.from_session(session)
    warnings = WarningRepository.from_session(session)
    return DeadlineView(
        deadline=deadline,
        pauses=await repository.pauses(case_no),
        history=await repository.history(case_no),
        steps=await repository.step_clocks(case_no),
        warnings=await warnings.of_case(case_no),
        actions=await warnings.actions(case_no),
    )


async def pause(
    session: AsyncSession,
    case_no: str,
    principal: Principal,
    *,
    kind: str,
    reason: str,
    on: date | None = None,
) -> CaseDeadline:
    """暂停计时 补正 / 特殊程序 / 挂起: the clock stands still and the sweep leaves the case alone."""
    deadline = await _visible_clock(session, case_no, principal, for_update=True)
    if deadline.closed_on is not None:
        raise ClockClosed(f"办件 {case_no} 已办结")
    if deadline.paused:
        raise AlreadyPaused(f"办件 {case_no} 已暂停计时，请先恢复")
    started = on or local_date(utcnow())
    repository = DeadlineRepository.from_session(session)
    repository.add(
        CasePause(case_no=case_no, kind=kind, reason=reason, started_on=started, started_by=principal.name)
    )
    await repository.update(deadline, update_dict={"paused": True})
    await repository.add_changes(
        [
            {
                "case_no": case_no,
                "old_due_date": deadline.due_date,
                "new_due_date": deadline.due_date,
                "old_provisional": deadline.provisional,
                "new_provisional": deadline.provisional,
                "reason": "paused",
                "note": f"{PAUSE_KINDS[kind]}：{reason}（自 {started} 起暂停计时）",
                "changed_by": principal.name,
                "changed_at": utcnow(),
            }
        ]
    )
    return deadline


async def resume(
    session: AsyncSession,
    case_no: str,
    principal: Principal,
    *,
    calendar: WorkingDayCalendar,
    defaults: SupervisionSettings,
    on: date | None = None,
) -> CaseDeadline:
    """恢复计时: the pause's working days are added to the limit."""
    deadline = await _visible_clock(session, case_no, principal, for_update=True)
    repository = DeadlineRepository.from_session(session)
    running = await repository.running_pause(case_no)
    if not deadline.paused or running is None:
        raise NotPaused(f"办件 {case_no} 未暂停计时")
    ended = max(on or local_date(utcnow()), running.started_on)
    running.ended_on, running.ended_by = ended, principal.name
    await repository.update(deadline, update_dict={"paused": False})
    pauses = await repository.pauses(case_no)
    rule = await RuleRepository.from_session(session).get(deadline.item_code)
    days = calendar.working_days_between(running.started_on, ended)
    change = await deadlines.apply(
        session,
        deadline,
        calendar=calendar,
        pauses=pauses,
        warn_days=deadlines.warn_days_of(rule, defaults),
        reason="resumed",
        note=f"{PAUSE_KINDS[running.kind]}结束（{running.started_on}–{ended}），顺延 {days} 个工作日",
        by=principal.name,
    )
    await repository.add_changes([change] if change else [])
    return deadline


async def extend(
    session: AsyncSession,
    case_no: str,
    principal: Principal,
    *,
    days: int,
    reason: str,
    calendar: WorkingDayCalendar,
    defaults: SupervisionSettings,
) -> CaseDeadline:
    """延期 Once per case, approved by a leader (决定人), with the reason; both due dates move."""
    if days > defaults.max_extension_days:
        raise ExtensionTooLong(
            f"延期最多 {defaults.max_extension_days} 个工作日", max_days=defaults.max_extension_days
        )
    deadline = await _visible_clock(session, case_no, principal, for_update=True)
    if deadline.closed_on is not None:
        raise ClockClosed(f"办件 {case_no} 已办结")
    if deadline.extension_days:
        raise AlreadyExtended(f"办件 {case_no} 已于 {deadline.extended_at:%Y-%m-%d} 延期一次")
    repository = DeadlineRepository.from_session(session)
    await repository.update(
        deadline,
        update_dict={
            "extension_days": days,
            "extension_reason": reason,
            "extension_approver_id": principal.sub,
            "extension_approver_name": principal.name,
            "extended_at": utcnow(),
        },
    )
    rule = await RuleRepository.from_session(session).get(deadline.item_code)
    change = await deadlines.apply(
        session,
        deadline,
        calendar=calendar,
        pauses=await repository.pauses(case_no),
        warn_days=deadlines.warn_days_of(rule, defaults),
        reason="extended",
        note=f"延期 {days} 个工作日：{reason}（批准人 {principal.name}）",
        by=principal.name,
    )
    await repository.add_changes([change] if change else [])
    return deadline


async def get_rule(session: AsyncSession, item_code: str) -> SupervisionRule | None:
    """The item's rule, or None (the defaults apply)."""
    return await RuleRepository.from_session(session).get(item_code)


async def set_rule(
    session: AsyncSession,
    item_code: str,
    principal: Principal,
    *,
    warn_days: int,
    step_warn_days: int,
    deemed_approval: bool,
    calendar: WorkingDayCalendar,
    defaults: SupervisionSettings,
) -> SupervisionRule:
    """监察规则 Set an item's thresholds and 承诺超时默认 flag; open cases get the new warning date."""
    rules = RuleRepository.from_session(session)
    rule = await rules.get(item_code)
    values = {
        "warn_days": warn_days,
        "step_warn_days": step_warn_days,
        "deemed_approval": deemed_approval,
        "updated_by": principal.name,
        "updated_at": utcnow(),
    }
    if rule is None:
        rule = await rules.create(SupervisionRule(item_code=item_code, **values), flush=True)
    else:
        await rules.update(rule, update_dict=values, flush=True)
    open_clocks = await DeadlineRepository.from_session(session).open_of_item(item_code)
    await deadlines.recompute_many(
        session,
        open_clocks,
        calendar=calendar,
        defaults=defaults,
        reason="rule_changed",
        note="监察规则调整",
        by=principal.name,
    )
    return rule


async def inbox(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None,
    level: str | None,
    offset: int,
    limit: int,
) -> tuple[Sequence[SupervisionWarning], int]:
    """督办件箱 Warnings: every unit's for supervisors, the caller's unit's for its staff."""
    if not sees_every_unit(principal) and principal.org_code is None:
        return [], 0
    org = None if sees_every_unit(principal) else principal.org_code
    return await WarningRepository.from_session(session).inbox(
        org_code=org, status=status, level=level, offset=offset, limit=limit
    )


async def board_counts(session: AsyncSession, principal: Principal) -> dict[str, int]:
    """Open warnings by level and status."""
    org = None if sees_every_unit(principal) else principal.org_code or ""
    return await WarningRepository.from_session(session).board_counts(org)


async def _visible_warning(
    session: AsyncSession, warning_id: int, principal: Principal
) -> SupervisionWarning:
    warning = await WarningRepository.from_session(session).get(warning_id, for_update=True)
    if warning is None or not (sees_every_unit(principal) or warning.org_code == principal.org_code):
        raise WarningNotFound(f"监察预警 {warning_id} 不存在")
    return warning


async def reply(
    session: AsyncSession, warning_id: int, principal: Principal, *, text: str
) -> SupervisionWarning:
    """书面答复 The responsible department answers a warning in writing (a later reply replaces it)."""
    warning = await _visible_warning(session, warning_id, principal)
    if principal.org_code != warning.org_code:
        raise WarningNotFound(f"监察预警 {warning_id} 不存在")
    if warning.status == CLOSED:
        raise WarningStateConflict(f"监察预警 {warning_id} 已办结，不能再答复", current_status=warning.status)
    await WarningRepository.from_session(session).update(
        warning,
        update_dict={
            "status": REPLIED,
            "reply_text": text,
            "replied_by": principal.name,
            "replied_at": utcnow(),
        },
    )
    return warning


async def close_warning(session: AsyncSession, warning_id: int, principal: Principal) -> SupervisionWarning:
    """The supervisor accepts the department's reply (办结)."""
    warning = await _visible_warning(session, warning_id, principal)
    if warning.status != REPLIED:
        state = "尚未答复" if warning.status == OPEN else "已办结"
        raise WarningStateConflict(f"监察预警 {warning_id} {state}", current_status=warning.status)
    await WarningRepository.from_session(session).update(
        warning, update_dict={"status": CLOSED, "closed_by": principal.name, "closed_at": utcnow()}
    )
    return warning


async def urge(
    session: AsyncSession,
    case_no: str,
    principal: Principal,
    *,
    kind: str,
    content: str,
    warning_id: int | None,
    source: str,
) -> SupervisionAction:
    """催办 / 督办 Record it and tell the handling system (CaseUrged)."""
    deadline = await _visible_clock(session, case_no, principal)
    if warning_id is not None:
        warning = await _visible_warning(session, warning_id, principal)
        if warning.case_no != case_no:
            raise WarningNotFound(f"监察预警 {warning_id} 不属于办件 {case_no}")
    now = utcnow()
    action = await WarningRepository.from_session(session).add_action(
        SupervisionAction(
            case_no=case_no,
            warning_id=warning_id,
            kind=kind,
            content=content,
            org_code=deadline.org_code,
            issued_by_id=principal.sub,
            issued_by=principal.name,
            issued_at=now,
        )
    )
    data = CaseUrged(
        case_no=case_no,
        kind=kind,
        content=content,
        org_code=deadline.org_code,
        issued_by=principal.name,
        issued_at=now,
    )
    await enqueue(session, messaging.outbox, events.urged_event(data, source=source))
    return action


async def on_time_rates(
    session: AsyncSession, principal: Principal, *, group: str, first: date, last: date
) -> list[dict[str, Any]]:
    """按时办结率 per department (org), channel (窗口/网办) or region, over a window of days."""
    org = None if sees_every_unit(principal) else principal.org_code or ""
    rows = await WarningRepository.from_session(session).on_time_rates(
        group, first=first, last=last, org_code=org
    )
    out = []
    for row in rows:
        judged = row.completed + row.overdue_open
        out.append(
            {
                "key": row.key,
                "completed": row.completed,
                "on_time": row.on_time,
                "overdue_open": row.overdue_open,
                "deemed": row.deemed,
                "extended": row.extended,
                "on_time_rate": round(row.on_time / judged, 4) if judged else None,
            }
        )
    return out


async def list_schedules(session: AsyncSession, calendar: WorkingDayCalendar) -> list[dict[str, Any]]:
    """Every year the calendar knows: packaged or loaded, with the loaded ones' provenance."""
    loaded = {row.year: row for row in await ScheduleRepository.from_session(session).all()}
    out = []
    for year in sorted(set(calendar.known_years()) | set(loaded)):
        row = loaded.get(year)
        schedule = parse_schedule(row.document) if row is not None else packaged_schedules().get(year)
        out.append(
            {
                "year": year,
                "origin": "loaded" if row is not None else "packaged",
                "source": schedule.source if schedule else "",
                "loaded_by": row.loaded_by if row is not None else None,
                "loaded_at": row.loaded_at if row is not None else None,
                "holidays": len(schedule.holidays) if schedule else None,
                "workdays": len(schedule.workdays) if schedule else None,
            }
        )
    return out


async def get_schedule_document(
    session: AsyncSession, year: int, calendar: WorkingDayCalendar
) -> dict[str, Any]:
    """The schedule of a year as the file format writes it."""
    row = await ScheduleRepository.from_session(session).get_by_id(year)
    if row is not None:
        return dict(row.document)
    packaged = packaged_schedules().get(year)
    if packaged is None:
        raise ScheduleNotFound(f"{year} 年没有节假日安排")
    return packaged.to_document()


def validate_schedule(document: Any, *, year: int | None = None) -> HolidaySchedule:
    """Parse a schedule or raise ``ScheduleRejected`` with every problem."""
    try:
        schedule = parse_schedule(document)
    except ScheduleInvalid as exc:
        raise ScheduleRejected("；".join(exc.errors), errors=exc.errors) from None
    if year is not None and schedule.year != year:
        raise ScheduleRejected(f"文件年份 {schedule.year} 与地址中的 {year} 不一致", errors=["year"])
    return schedule


async def load_schedule(
    session: AsyncSession,
    schedule: HolidaySchedule,
    *,
    by: str,
    calendar: WorkingDayCalendar,
    defaults: SupervisionSettings,
) -> int:
    """Store a year's schedule, use it here at once, and recompute every open deadline it touches.

    Returns:
        How many open cases' due dates (or provisional flags) moved; each got a history line.
    """
    await ScheduleRepository.from_session(session).upsert(
        {
            "year": schedule.year,
            "document": schedule.to_document(),
            "source": schedule.source,
            "loaded_by": by,
            "loaded_at": utcnow(),
        }
    )
    calendar.add_schedule(schedule)
    note = f"载入 {schedule.year} 年节假日安排" + (f"（{schedule.source}）" if schedule.source else "")
    return await deadlines.recompute_for_years(
        session, [schedule.year], calendar=calendar, defaults=defaults, note=note, by=by
    )
