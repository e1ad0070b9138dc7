"""Pages of delivery of results and payment under ``/console/manage`` (ADR 0113, 0117): the
送达工作台 (decided cases awaiting hand-over or on their way, with the due date and yellow/red),
a case's delivery with its actions (窗口领取, 证照寄送 with courier and tracking number, 物流轨迹,
已签收), a case's payment (order, status, receipt) and the daily 对账 report.

Same sign-in, cookie and CSRF layers as the other console pages (ADR 0016, 0021). Access is deny
by default: each page names the roles it admits, and every action goes through the domain's
service, so the rules, the scope of the staff member's unit and the events are the API's.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from yiwang_common.auth import (
    ROLE_ACCEPTOR,
    ROLE_ADMIN,
    ROLE_APPROVER,
    ROLE_DELIVERER,
    ROLE_RECEIVER,
    ROLE_REVIEWER,
    ROLE_SUPERVISOR,
    Principal,
)
from yiwang_common.db import utcnow
from yiwang_common.documents import find_font
from yiwang_common.http import Forbidden
from yiwang_common.http.problems import ValidationFailed
from yiwang_common.staff_session import CSRF_FIELD
from yiwang_common.web.console import Staff, check_form
from yiwang_management.case.endpoints import pdf_response
from yiwang_management.console.endpoints import Session
from yiwang_management.console.rendering import PREFIX, PageRoute, render
from yiwang_management.delivery import service as delivery_service
from yiwang_management.delivery.courier import SandboxCourier
from yiwang_management.delivery.models import COURIERS, DISPATCHED, EVENT_NAMES, READY, STATUS_NAMES
from yiwang_management.delivery.schemas import DispatchRequest, HandOver, TrackingEventIn
from yiwang_management.payment import service as payment_service
from yiwang_management.payment.endpoints import provider
from yiwang_management.payment.models import LINE_NAMES
from yiwang_management.payment.sandbox import SandboxProvider
from yiwang_management.payment.schemas import yuan
from yiwang_management.shared import local_date

router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)
CaseNoPath = Annotated[str, Path(pattern=r"^[0-9A-Za-z]{1,32}$")]
DayPath = Annotated[date, Path()]
FORM_LIMIT = 2_000

#: Who may open each page; anyone else is refused (403), whatever the page would show.
DELIVERY_ROLES = frozenset({ROLE_DELIVERER, ROLE_ACCEPTOR})
PAYMENT_ROLES = frozenset(
    {ROLE_RECEIVER, ROLE_ACCEPTOR, ROLE_REVIEWER, ROLE_APPROVER, ROLE_DELIVERER, ROLE_SUPERVISOR}
)
RECONCILIATION_ROLES = frozenset({ROLE_SUPERVISOR, ROLE_ADMIN})
#: 物流轨迹 a deliverer records by hand (已签收 has its own button).
SCANS = {k: EVENT_NAMES[k] for k in ("in_transit", "out_for_delivery")}


def _admit(staff: Principal, roles: frozenset[str], message: str) -> None:
    if not staff.roles & roles:
        raise Forbidden(message)


def _deliverer(staff: Principal) -> None:
    _admit(staff, DELIVERY_ROLES, "只有送件人或受理人可以办理送达")


async def _form(request: Request) -> dict[str, str]:
    """The posted fields (first value of each), checked against CSRF first."""
    raw = await request.form()
    values = {k: v[:FORM_LIMIT].strip() for k, v in raw.multi_items() if isinstance(v, str)}
    check_form(request, values.get(CSRF_FIELD, ""))
    return values


def _invalid(exc: ValidationError) -> ValidationFailed:
    fields = "、".join(str(e["loc"][-1]) for e in exc.errors() if e["loc"]) or "表单"
    return ValidationFailed(f"请检查以下内容：{fields}")


def _delivery_url(case_no: str, done: str) -> str:
    return f"{PREFIX}/deliveries/{case_no}?done={done}"


# --- 送达工作台 ----------------------------------------------------------------------------------


@router.get("/deliveries", response_class=HTMLResponse)
async def delivery_board(
    request: Request,
    session: Session,
    staff: Staff,
    status: Annotated[str, Query(pattern="^(|ready|dispatched)$")] = "",
) -> HTMLResponse:
    """送达工作台: the unit's results to hand over or post, soonest due first, yellow/red."""
    _deliverer(staff)
    today = local_date(utcnow())
    rows = await delivery_service.board(session, staff, status=status or None, today=today)
    return render(
        request,
        "delivery_board.html",
        {
            "rows": rows,
            "status": status,
            "statuses": {READY: STATUS_NAMES[READY], DISPATCHED: STATUS_NAMES[DISPATCHED]},
            "today": today,
        },
    )


@router.get("/deliveries/{case_no}", response_class=HTMLResponse)
async def delivery_page(
    request: Request, session: Session, staff: Staff, case_no: CaseNoPath
) -> HTMLResponse:
    """A case's delivery: where to, by when, its tracking, and the actions its state allows."""
    _deliverer(staff)
    case, delivery = await delivery_service.staff_view(session, case_no, staff)
    return render(
        request,
        "delivery_case.html",
        {
            "case": case,
            "delivery": delivery,
            "level": delivery_service.delivery_level(local_date(utcnow()), delivery.due_date, None),
            "couriers": {k: v for k, v in COURIERS.items() if k != SandboxCourier.name},
            "scans": SCANS,
            "done": {
                "hand-over": "已登记窗口领取。",
                "dispatch": "已登记寄出。",
                "event": "已记录物流轨迹。",
                "delivered": "已登记签收，送达完成。",
            }.get(request.query_params.get("done", "")),
        },
    )


@router.post("/deliveries/{case_no}/hand-over")
async def hand_over(request: Request, session: Session, staff: Staff, case_no: CaseNoPath) -> Response:
    """现场递交: who collected the result (identity checked at the window)."""
    form = await _form(request)
    _deliverer(staff)
    try:
        body = HandOver(collected_by=form.get("collected_by", ""))
    except ValidationError as exc:
        raise _invalid(exc) from exc
    await delivery_service.hand_over(
        session, case_no, staff, collected_by=body.collected_by, source=request.app.state.runtime.source
    )
    return RedirectResponse(_delivery_url(case_no, "hand-over"), status_code=303)


@router.post("/deliveries/{case_no}/dispatch")
async def dispatch(request: Request, session: Session, staff: Staff, case_no: CaseNoPath) -> Response:
    """证照寄送: a waybill filled in at the window (courier + tracking number), or the sandbox
    courier's own number when ``courier`` is ``sandbox``."""
    form = await _form(request)
    _deliverer(staff)
    waybill = None
    if form.get("courier") != SandboxCourier.name:
        try:
            body = DispatchRequest.model_validate(
                {"courier": form.get("courier", ""), "tracking_no": form.get("tracking_no", "")}
            )
        except ValidationError as exc:
            raise _invalid(exc) from exc
        waybill = (body.courier, body.tracking_no)
    await delivery_service.dispatch(
        session,
        case_no,
        staff,
        courier=SandboxCourier(),
        source=request.app.state.runtime.source,
        waybill=waybill,
    )
    return RedirectResponse(_delivery_url(case_no, "dispatch"), status_code=303)


@router.post("/deliveries/{case_no}/events")
async def track(request: Request, session: Session, staff: Staff, case_no: CaseNoPath) -> Response:
    """物流轨迹 (运输中 / 派送中), or 已签收, which completes the delivery."""
    form = await _form(request)
    _deliverer(staff)
    kind = form.get("kind", "")
    try:
        body = TrackingEventIn.model_validate(
            {
                "kind": kind,
                "description": form.get("description") or ("本人签收" if kind == "delivered" else ""),
            }
        )
    except ValidationError as exc:
        raise _invalid(exc) from exc
    await delivery_service.track(
        session,
        case_no,
        staff,
        kind=body.kind,
        description=body.description,
        source=request.app.state.runtime.source,
    )
    return RedirectResponse(
        _delivery_url(case_no, "delivered" if body.kind == "delivered" else "event"), status_code=303
    )


# --- 办件缴费 ------------------------------------------------------------------------------------


@router.get("/cases/{case_no}/payment", response_class=HTMLResponse)
async def case_payment(request: Request, session: Session, staff: Staff, case_no: CaseNoPath) -> HTMLResponse:
    """办件缴费: the fee schedule, the case's order and its status, the receipt once paid."""
    _admit(staff, PAYMENT_ROLES, "您的岗位无权查看缴费信息")
    payment = await payment_service.case_payment(
        session, case_no, staff, provider=None, source=request.app.state.runtime.source
    )
    return render(request, "case_payment.html", {"payment": payment, "yuan": yuan})


@router.get("/cases/{case_no}/payment/receipt.pdf")
async def receipt(request: Request, session: Session, staff: Staff, case_no: CaseNoPath) -> Response:
    """电子票据 of the case's payment (the same number every time)."""
    _admit(staff, PAYMENT_ROLES, "您的岗位无权查看缴费信息")
    order, case = await payment_service.receipt(session, case_no, staff)
    font = find_font(request.app.state.settings.guide_font_path)
    return pdf_response(f"{order.receipt_no}.pdf", payment_service.receipt_pdf(order, case, font=font))


# --- 对账 ----------------------------------------------------------------------------------------


def _reconciler(staff: Principal) -> None:
    _admit(staff, RECONCILIATION_ROLES, "只有监察人员或管理员可以查看对账")


@router.get("/reconciliations", response_class=HTMLResponse)
async def reconciliations(
    request: Request,
    session: Session,
    staff: Staff,
    status: Annotated[str, Query(pattern="^(|balanced|mismatched)$")] = "",
) -> HTMLResponse:
    """每日对账: one line per provider and day with its counts; 存在差异 first when filtered."""
    _reconciler(staff)
    rows, total = await payment_service.reconciliations(session, status=status or None, offset=0, limit=90)
    return render(
        request,
        "reconciliations.html",
        {
            "rows": rows,
            "total": total,
            "status": status,
            "yesterday": local_date(utcnow()) - timedelta(days=1),
        },
    )


@router.post("/reconciliations")
async def run_reconciliation(
    request: Request, session: Session, staff: Staff, channel: Annotated[SandboxProvider, Depends(provider)]
) -> Response:
    """Reconcile a day now (replacing an earlier run of that day)."""
    form = await _form(request)
    _reconciler(staff)
    try:
        day = date.fromisoformat(form.get("day", ""))
    except ValueError as exc:
        raise ValidationFailed("请填写对账日期（YYYY-MM-DD）") from exc
    if day > local_date(utcnow()):
        raise ValidationFailed("对账日期不能晚于今天")
    await payment_service.reconcile(session, day, provider=channel, by=staff.name)
    return RedirectResponse(f"{PREFIX}/reconciliations/{day.isoformat()}", status_code=303)


@router.get("/reconciliations/{day}", response_class=HTMLResponse)
async def reconciliation(
    request: Request,
    session: Session,
    staff: Staff,
    day: DayPath,
    channel: Annotated[SandboxProvider, Depends(provider)],
) -> HTMLResponse:
    """A day's record with every line, mismatches first."""
    _reconciler(staff)
    found = await payment_service.reconciliation(session, channel.name, day)
    context: dict[str, Any] = {"day": day, "record": found, "line_names": LINE_NAMES, "yuan": yuan}
    return render(request, "reconciliation.html", context)
