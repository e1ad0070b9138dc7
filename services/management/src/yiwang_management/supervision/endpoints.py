"""REST surface of deadlines (办理时限), e-supervision (电子监察) and the holiday schedules (节假日安排)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import (
    ROLE_ACCEPTOR,
    ROLE_ADMIN,
    ROLE_APPROVER,
    ROLE_REVIEWER,
    ROLE_SUPERVISOR,
    Principal,
    require_role,
)
from yiwang_common.db import get_session, utcnow
from yiwang_common.http import Forbidden, Unauthorized, problem_responses
from yiwang_common.http.pagination import ListResource, PageQuery
from yiwang_common.http.problems import ValidationFailed
from yiwang_management.shared import local_date
from yiwang_management.supervision import service
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
from yiwang_management.supervision.schemas import (
    ActionView,
    DeadlineDetail,
    ExtensionRequest,
    PauseRequest,
    RateReport,
    RateRow,
    ReplyRequest,
    RuleRequest,
    RuleView,
    ScheduleDocument,
    ScheduleLoaded,
    ScheduleSummary,
    UrgeRequest,
    WarningView,
)

router = APIRouter(tags=["supervision"])

Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
Reader = Annotated[
    Principal, require_role(ROLE_ACCEPTOR, ROLE_REVIEWER, ROLE_APPROVER, ROLE_SUPERVISOR, ROLE_ADMIN)
]
Handler = Annotated[Principal, require_role(ROLE_ACCEPTOR, ROLE_REVIEWER, ROLE_APPROVER)]
Approver = Annotated[Principal, require_role(ROLE_APPROVER)]
Supervisor = Annotated[Principal, require_role(ROLE_SUPERVISOR)]
RuleSetter = Annotated[Principal, require_role(ROLE_SUPERVISOR, ROLE_ADMIN)]
Admin = Annotated[Principal, require_role(ROLE_ADMIN)]
CaseNo = Annotated[str, Path(pattern=r"^[0-9A-Za-z]{1,32}$", description="办件编号")]
ItemCode = Annotated[str, Path(pattern=r"^[0-9A-Za-z]{1,64}$", description="实施编码")]
Year = Annotated[int, Path(ge=2000, le=2100, description="年份")]
WarningId = Annotated[int, Path(ge=1, le=2**62)]
AUTH = (Unauthorized, Forbidden)


async def _detail(session: AsyncSession, case_no: str, principal: Principal) -> DeadlineDetail:
    return DeadlineDetail.build(await service.deadline_view(session, case_no, principal))


@router.get(
    "/cases/{case_no}/deadline",
    summary="办理时限 Deadline of a case",
    response_model=DeadlineDetail,
    responses=problem_responses(*AUTH, DeadlineNotFound),
)
async def get_deadline(case_no: CaseNo, session: Session, principal: Reader) -> DeadlineDetail:
    """Due dates (承诺 / 法定), 暂定 flag, pauses, the extension, why the due date moved, step clocks and warnings."""
    return await _detail(session, case_no, principal)


@router.post(
    "/cases/{case_no}/pauses",
    summary="暂停计时 Pause the clock",
    response_model=DeadlineDetail,
    responses=problem_responses(*AUTH, DeadlineNotFound, ClockClosed, AlreadyPaused),
)
async def pause_clock(
    case_no: CaseNo, body: PauseRequest, session: Session, principal: Handler
) -> DeadlineDetail:
    """补正 / 特殊程序 / 挂起: the days until it resumes do not count."""
    await service.pause(session, case_no, principal, kind=body.kind, reason=body.reason)
    return await _detail(session, case_no, principal)


@router.post(
    "/cases/{case_no}/pauses/resume",
    summary="恢复计时 Resume the clock",
    response_model=DeadlineDetail,
    responses=problem_responses(*AUTH, DeadlineNotFound, NotPaused),
)
async def resume_clock(
    case_no: CaseNo, request: Request, session: Session, principal: Handler
) -> DeadlineDetail:
    """The pause ends today; its working days move both due dates."""
    await service.resume(
        session,
        case_no,
        principal,
        calendar=request.app.state.calendar,
        defaults=request.app.state.settings.supervision,
    )
    return await _detail(session, case_no, principal)


@router.post(
    "/cases/{case_no}/extension",
    summary="延期 Extend the limit (once)",
    response_model=DeadlineDetail,
    responses=problem_responses(*AUTH, DeadlineNotFound, ClockClosed, AlreadyExtended, ExtensionTooLong),
)
async def extend_limit(
    case_no: CaseNo, body: ExtensionRequest, request: Request, session: Session, principal: Approver
) -> DeadlineDetail:
    """One extension per case, approved by the caller (决定人), with its reason."""
    await service.extend(
        session,
        case_no,
        principal,
        days=body.days,
        reason=body.reason,
        calendar=request.app.state.calendar,
        defaults=request.app.state.settings.supervision,
    )
    return await _detail(session, case_no, principal)


@router.post(
    "/cases/{case_no}/urges",
    summary="催办 / 督办 Chase a case",
    response_model=ActionView,
    status_code=201,
    responses=problem_responses(*AUTH, DeadlineNotFound, WarningNotFound),
)
async def urge_case(
    case_no: CaseNo, body: UrgeRequest, request: Request, session: Session, principal: Supervisor
) -> ActionView:
    """Recorded, and announced to the handling system (``case.urged``)."""
    action = await service.urge(
        session,
        case_no,
        principal,
        kind=body.kind,
        content=body.content,
        warning_id=body.warning_id,
        source=request.app.state.runtime.source,
    )
    return ActionView.model_validate(action)


@router.get(
    "/supervision/warnings",
    summary="督办件箱 Warnings inbox",
    response_model=ListResource[WarningView],
    responses=problem_responses(*AUTH),
)
async def list_warnings(
    session: Session,
    principal: Reader,
    pages: PageQuery,
    status: Annotated[str | None, Query(pattern="^(open|replied|closed)$", description="答复状态")] = None,
    level: Annotated[
        str | None, Query(pattern="^(yellow|red)$", description="yellow 预警 / red 超时")
    ] = None,
) -> Any:
    """Supervisors see every unit's warnings; department staff see their own unit's, to answer them."""
    rows, total = await service.inbox(
        session, principal, status=status, level=level, offset=pages.offset, limit=pages.limit
    )
    return pages.wrap([WarningView.of(w) for w in rows], total)


@router.post(
    "/supervision/warnings/{warning_id}/reply",
    summary="书面答复 Answer a warning",
    response_model=WarningView,
    responses=problem_responses(*AUTH, WarningNotFound, WarningStateConflict),
)
async def reply_warning(
    warning_id: WarningId, body: ReplyRequest, session: Session, principal: Handler
) -> WarningView:
    """The responsible department's written reply; the warning becomes 已答复."""
    return WarningView.of(await service.reply(session, warning_id, principal, text=body.text))


@router.post(
    "/supervision/warnings/{warning_id}/close",
    summary="办结预警 Accept the reply",
    response_model=WarningView,
    responses=problem_responses(*AUTH, WarningNotFound, WarningStateConflict),
)
async def close_warning(warning_id: WarningId, session: Session, principal: Supervisor) -> WarningView:
    """The supervisor accepts the reply; only a replied warning can be closed."""
    return WarningView.of(await service.close_warning(session, warning_id, principal))


@router.get(
    "/supervision/rules/{item_code}",
    summary="监察规则 Rule of an item",
    response_model=RuleView,
    responses=problem_responses(*AUTH),
)
async def get_rule(item_code: ItemCode, request: Request, session: Session, principal: Reader) -> RuleView:
    """The item's thresholds and 承诺超时默认 flag, or the configured defaults."""
    rule = await service.get_rule(session, item_code)
    if rule is None:
        defaults = request.app.state.settings.supervision
        return RuleView(
            item_code=item_code,
            warn_days=defaults.warn_days,
            step_warn_days=defaults.step_warn_days,
            deemed_approval=False,
            configured=False,
        )
    return RuleView.model_validate(rule)


@router.put(
    "/supervision/rules/{item_code}",
    summary="设置监察规则 Set the rule of an item",
    response_model=RuleView,
    responses=problem_responses(*AUTH),
)
async def put_rule(
    item_code: ItemCode, body: RuleRequest, request: Request, session: Session, principal: RuleSetter
) -> RuleView:
    """Thresholds per item; the open cases of the item get their new warning dates at once."""
    rule = await service.set_rule(
        session,
        item_code,
        principal,
        warn_days=body.warn_days,
        step_warn_days=body.step_warn_days,
        deemed_approval=body.deemed_approval,
        calendar=request.app.state.calendar,
        defaults=request.app.state.settings.supervision,
    )
    return RuleView.model_validate(rule)


@router.get(
    "/supervision/statistics/on-time",
    summary="按时办结率 On-time rate",
    response_model=RateReport,
    responses=problem_responses(*AUTH, ValidationFailed),
)
async def on_time_rate(
    session: Session,
    principal: Reader,
    group_by: Annotated[
        str,
        Query(
            pattern="^(org|window|channel|region)$",
            description="org 部门 / window 受理窗口 (统一社会信用代码/窗口编码) / channel 窗口与网办 / region 区划",
        ),
    ] = "org",
    first: Annotated[
        date | None, Query(alias="from", description="窗口期起 (办结日期), default 30 days ago")
    ] = None,
    last: Annotated[date | None, Query(alias="to", description="窗口期止 (含)")] = None,
) -> RateReport:
    """Cases completed in the window, and open cases that passed their due date in it, per group."""
    last = last or local_date(utcnow())
    if first is None:
        first = last - timedelta(days=30) if last > date(1, 2, 1) else last
    if first > last or (last - first).days > 3660:
        raise ValidationFailed("统计窗口无效：起始日期须不晚于截止日期，且不超过十年")
    rows = await service.on_time_rates(session, principal, group=group_by, first=first, last=last)
    return RateReport(group_by=group_by, first=first, last=last, rows=[RateRow(**r) for r in rows])


@router.get(
    "/calendar/schedules",
    summary="节假日安排列表 Holiday schedules",
    response_model=list[ScheduleSummary],
    responses=problem_responses(*AUTH),
)
async def list_schedules(request: Request, session: Session, principal: Reader) -> list[ScheduleSummary]:
    """Every year the calendar knows, packaged or loaded."""
    return [ScheduleSummary(**s) for s in await service.list_schedules(session, request.app.state.calendar)]


@router.get(
    "/calendar/schedules/{year}",
    summary="节假日安排 A year's schedule",
    responses=problem_responses(*AUTH, ScheduleNotFound),
)
async def get_schedule(year: Year, request: Request, session: Session, principal: Reader) -> dict[str, Any]:
    """The schedule in the file format (``holiday-schedule.schema.json``)."""
    return await service.get_schedule_document(session, year, request.app.state.calendar)


@router.put(
    "/calendar/schedules/{year}",
    summary="载入节假日安排 Load a year's schedule",
    response_model=ScheduleLoaded,
    responses=problem_responses(*AUTH, ScheduleRejected),
)
async def put_schedule(
    year: Year,
    request: Request,
    session: Session,
    principal: Admin,
    document: ScheduleDocument,
) -> ScheduleLoaded:
    """Validated (schema and rules); the open cases it touches are recomputed, each with a history line."""
    schedule = service.validate_schedule(document.model_dump(exclude_unset=True), year=year)
    moved = await service.load_schedule(
        session,
        schedule,
        by=principal.name,
        calendar=request.app.state.calendar,
        defaults=request.app.state.settings.supervision,
    )
    return ScheduleLoaded(
        year=schedule.year,
        holidays=len(schedule.holidays),
        workdays=len(schedule.workdays),
        recomputed_cases=moved,
    )
