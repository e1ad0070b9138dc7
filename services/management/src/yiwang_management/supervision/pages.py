"""Console pages of e-supervision under ``/console/manage``: the supervision board (督办件箱) and the
holiday-schedule administration, with the console's sign-in and CSRF rules (ADR 0016, 0021)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import ROLE_ACCEPTOR, ROLE_ADMIN, ROLE_APPROVER, ROLE_REVIEWER, ROLE_SUPERVISOR
from yiwang_common.db import get_session
from yiwang_common.http import Forbidden
from yiwang_common.http.problems import PayloadTooLarge, ValidationFailed
from yiwang_common.staff_session import COOKIE_NAME, csrf_matches, same_origin
from yiwang_common.web.console import FormRejected, Staff
from yiwang_management.console.endpoints import CsrfField
from yiwang_management.console.rendering import PREFIX, PageRoute, render
from yiwang_management.payment import service as payment_service
from yiwang_management.supervision import service
from yiwang_management.supervision.errors import ScheduleRejected
from yiwang_management.supervision.models import WARNING_STATUS_NAMES
from yiwang_management.supervision.schemas import ReplyRequest, WarningView

router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)
Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
WarningId = Annotated[int, Path(ge=1, le=2**62)]
MAX_SCHEDULE_BYTES = 256 * 1024


def check_form(request: Request, submitted: str) -> None:
    token = request.cookies.get(COOKIE_NAME, "")
    origin_ok = same_origin(request.headers.get("origin"), request.url.scheme, request.url.netloc)
    if not (origin_ok and token and csrf_matches(token, submitted)):
        raise FormRejected("表单已过期或来源不明，请刷新页面后重新提交")


@router.get("/supervision", response_class=HTMLResponse)
async def board(
    request: Request,
    session: Session,
    staff: Staff,
    level: Annotated[str, Query(pattern="^(|yellow|red)$")] = "",
    status: Annotated[str, Query(pattern="^(|open|replied|closed)$")] = "",
) -> HTMLResponse:
    """督办件箱: yellow and red warnings, their replies, and what this staff member may do."""
    rows, total = await service.inbox(
        session, staff, status=status or None, level=level or None, offset=0, limit=200
    )
    return render(
        request,
        "supervision.html",
        {
            "warnings": [WarningView.of(w) for w in rows],
            "total": total,
            "counts": await service.board_counts(session, staff),
            "level": level,
            "status": status,
            "statuses": WARNING_STATUS_NAMES,
            "every_unit": service.sees_every_unit(staff),
            "can_reply": bool(staff.roles & {ROLE_ACCEPTOR, ROLE_REVIEWER, ROLE_APPROVER}),
            "can_close": ROLE_SUPERVISOR in staff.roles,
            # 对账差异: days whose payments do not match the provider's statement (ADR 0113).
            "reconciliations": (
                (await payment_service.reconciliations(session, status="mismatched", offset=0, limit=30))[0]
                if staff.roles & {ROLE_SUPERVISOR, ROLE_ADMIN}
                else None
            ),
        },
    )


@router.post("/supervision/warnings/{warning_id}/reply")
async def reply(
    request: Request,
    session: Session,
    staff: Staff,
    warning_id: WarningId,
    csrf: CsrfField,
    text: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:
    """书面答复 from the board."""
    check_form(request, csrf)
    try:
        text = ReplyRequest(text=text).text
    except ValidationError:
        raise ValidationFailed("答复内容含有不允许的字符") from None
    if not staff.roles & {ROLE_ACCEPTOR, ROLE_REVIEWER, ROLE_APPROVER}:
        raise Forbidden("只有办件所在部门的工作人员可以答复")
    await service.reply(session, warning_id, staff, text=text.strip())
    return RedirectResponse(f"{PREFIX}/supervision#warning-{warning_id}", status_code=303)


@router.post("/supervision/warnings/{warning_id}/close")
async def close(
    request: Request, session: Session, staff: Staff, warning_id: WarningId, csrf: CsrfField
) -> Response:
    """确认办结 from the board (supervisors)."""
    check_form(request, csrf)
    if ROLE_SUPERVISOR not in staff.roles:
        raise Forbidden("只有电子监察人员可以确认办结")
    await service.close_warning(session, warning_id, staff)
    return RedirectResponse(f"{PREFIX}/supervision#warning-{warning_id}", status_code=303)


async def _calendar_page(
    request: Request,
    session: AsyncSession,
    *,
    loaded: dict[str, int] | None = None,
    errors: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    staff = request.state.staff
    return render(
        request,
        "calendar.html",
        {
            "years": await service.list_schedules(session, request.app.state.calendar),
            "can_load": ROLE_ADMIN in staff.roles,
            "loaded": loaded,
            "errors": errors or [],
        },
        status_code=status_code,
    )


@router.get("/calendar", response_class=HTMLResponse)
async def calendar_page(request: Request, session: Session, staff: Staff) -> HTMLResponse:
    """节假日安排: the years the calendar knows and the upload form."""
    return await _calendar_page(request, session)


@router.post("/calendar", response_class=HTMLResponse)
async def upload_schedule(
    request: Request, session: Session, staff: Staff, file: Annotated[UploadFile, File()], csrf: CsrfField
) -> HTMLResponse:
    """载入 a year's schedule file; its problems are listed on the page, nothing is stored then."""
    check_form(request, csrf)
    if ROLE_ADMIN not in staff.roles:
        raise Forbidden("仅中心管理员可以载入节假日安排")
    data = await file.read(MAX_SCHEDULE_BYTES + 1)
    if len(data) > MAX_SCHEDULE_BYTES:
        raise PayloadTooLarge("节假日安排文件最大 256 KB")
    if not data:
        raise ValidationFailed("文件为空")
    try:
        document = json.loads(data.decode("utf-8"))
        schedule = service.validate_schedule(document)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return await _calendar_page(request, session, errors=["文件不是 UTF-8 编码的 JSON"], status_code=422)
    except ScheduleRejected as exc:
        return await _calendar_page(
            request, session, errors=list(exc.extra.get("errors", [])), status_code=422
        )
    moved = await service.load_schedule(
        session,
        schedule,
        by=staff.name,
        calendar=request.app.state.calendar,
        defaults=request.app.state.settings.supervision,
    )
    loaded = {
        "year": schedule.year,
        "holidays": len(schedule.holidays),
        "workdays": len(schedule.workdays),
        "recomputed_cases": moved,
    }
    return await _calendar_page(request, session, loaded=loaded)
