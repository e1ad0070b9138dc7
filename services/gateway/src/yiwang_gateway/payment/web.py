"""Pages: a case's fee (缴费) with its receipt, the sandbox provider's cashier (模拟收银台), and the
choice of delivery (送达方式), server-rendered and working without JavaScript.

The citizen's page session (the portal cookie) is forwarded as their token; forms that change
something carry the session's CSRF token and must come from this origin, as on 我的.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from yiwang_common.http.problems import Problem
from yiwang_common.staff_session import csrf_matches, csrf_token, same_origin
from yiwang_gateway.dependencies import GUARDS
from yiwang_gateway.myspace.web import COOKIE_NAME, page_principal
from yiwang_gateway.payment.client import PaymentClient
from yiwang_gateway.web.rendering import PageRoute, error_page, render

router = APIRouter(tags=["pages"], dependencies=GUARDS, route_class=PageRoute, include_in_schema=False)

CaseNo = Annotated[str, Path(pattern=r"^[0-9A-Za-z]{1,32}$")]
ProviderOrderId = Annotated[str, Path(pattern=r"^SBX[0-9a-f]{24}$")]
#: Where the cashier may send the browser back to: this portal's fee pages only (no open redirect).
RETURN_PREFIX = "/me/cases/"


def _client(request: Request) -> PaymentClient:
    client: PaymentClient = request.app.state.payment_client
    return client


def _token(request: Request) -> str | None:
    return request.cookies.get(COOKIE_NAME) or None


def _need_sign_in(request: Request) -> HTMLResponse:
    return render(request, "need_sign_in.html", {"q": ""}, status_code=401)


def _form_ok(request: Request, csrf: str) -> bool:
    token = _token(request)
    return (
        token is not None
        and page_principal(request) is not None
        and same_origin(request.headers.get("origin"), request.url.scheme, request.url.netloc)
        and csrf_matches(token, csrf)
    )


# --- 缴费 -----------------------------------------------------------------------------------------


async def _payment_page(
    request: Request, case_no: str, *, notice: str = "", error: str = "", status: int = 200
) -> HTMLResponse:
    token = _token(request)
    assert token is not None
    payment = await _client(request).json("GET", f"/cases/{case_no}/payment", token)
    context: dict[str, Any] = {
        "q": "",
        "case_no": case_no,
        "p": payment,
        "csrf": csrf_token(token),
        "notice": notice,
        "error": error,
    }
    return render(request, "payment.html", context, status_code=status)


@router.get("/me/cases/{case_no}/payment", response_class=HTMLResponse)
async def payment_page(request: Request, case_no: CaseNo, paid: str = "") -> HTMLResponse:
    """缴费: the fees of the case's item, the order, and once paid the receipt."""
    if page_principal(request) is None:
        return _need_sign_in(request)
    return await _payment_page(request, case_no, notice="已完成支付，感谢！" if paid else "")


@router.post("/me/cases/{case_no}/payment", response_class=HTMLResponse)
async def start_payment(
    request: Request, case_no: CaseNo, csrf: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    """去缴费: management makes the order from the fee schedule; the browser goes to the cashier."""
    if not _form_ok(request, csrf):
        return _need_sign_in(request)
    token = _token(request)
    try:
        order = await _client(request).json("POST", f"/cases/{case_no}/payment", token)
    except Problem as exc:
        return await _payment_page(request, case_no, error=exc.detail or exc.title, status=exc.status)
    pay_url = str(order.get("pay_url") or f"/me/cases/{case_no}/payment")
    return RedirectResponse(pay_url, status_code=303)


@router.get("/me/cases/{case_no}/payment/receipt.pdf")
async def receipt(request: Request, case_no: CaseNo) -> Response:
    """电子票据 PDF, as management issued it."""
    token = _token(request)
    if token is None or page_principal(request) is None:
        return _need_sign_in(request)
    upstream = await _client(request).pdf(f"/cases/{case_no}/payment/receipt.pdf", token)
    return Response(
        upstream.content,
        media_type="application/pdf",
        headers={"Content-Disposition": upstream.headers.get("content-disposition", "inline")},
    )


# --- 模拟收银台 -------------------------------------------------------------------------------------


def _safe_return(target: str) -> str:
    return target if target.startswith(RETURN_PREFIX) and "//" not in target and "\\" not in target else "/me"


@router.get("/pay/sandbox/{provider_order_id}", response_class=HTMLResponse)
async def cashier(
    request: Request,
    provider_order_id: ProviderOrderId,
    return_to: Annotated[str, Query(alias="return", max_length=300)] = "/me",
) -> HTMLResponse:
    """The sandbox provider's cashier (a bank's page in production): the amount and a pay button."""
    order = await _client(request).json("GET", f"/payment-sandbox/orders/{provider_order_id}", None)
    context = {"q": "", "o": order, "return_to": _safe_return(return_to), "pid": provider_order_id}
    return render(request, "sandbox_cashier.html", context)


@router.post("/pay/sandbox/{provider_order_id}", response_class=HTMLResponse)
async def cashier_pay(
    request: Request,
    provider_order_id: ProviderOrderId,
    return_to: Annotated[str, Form(alias="return", max_length=300)] = "/me",
) -> Response:
    """模拟付款, then back to the portal; the provider notifies management on its own."""
    if not same_origin(request.headers.get("origin"), request.url.scheme, request.url.netloc):
        return error_page(request, 403, "请从收银台页面支付。")
    await _client(request).json("POST", f"/payment-sandbox/orders/{provider_order_id}/pay", None)
    target = _safe_return(return_to)
    sep = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{sep}paid=1", status_code=303)


# --- 送达方式 -------------------------------------------------------------------------------------


async def _delivery_page(
    request: Request,
    case_no: str,
    *,
    values: dict[str, str] | None = None,
    notice: str = "",
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    token = _token(request)
    assert token is not None
    try:
        delivery: dict[str, Any] | None = await _client(request).json(
            "GET", f"/cases/{case_no}/delivery", token
        )
    except Problem as exc:
        if exc.status != 404 or "送达方式" not in (exc.detail or ""):
            raise
        delivery = None
    context = {
        "q": "",
        "case_no": case_no,
        "d": delivery,
        "values": values or {"method": (delivery or {}).get("method", "window")},
        "csrf": csrf_token(token),
        "notice": notice,
        "error": error,
    }
    return render(request, "delivery.html", context, status_code=status)


@router.get("/me/cases/{case_no}/delivery", response_class=HTMLResponse)
async def delivery_page(request: Request, case_no: CaseNo, saved: str = "") -> HTMLResponse:
    """送达方式: 窗口领取 or 邮寄送达 with the address; the tracking once posted."""
    if page_principal(request) is None:
        return _need_sign_in(request)
    return await _delivery_page(request, case_no, notice="送达方式已保存。" if saved else "")


@router.post("/me/cases/{case_no}/delivery", response_class=HTMLResponse)
async def choose_delivery(
    request: Request,
    case_no: CaseNo,
    csrf: Annotated[str, Form(max_length=128)] = "",
    method: Annotated[str, Form(max_length=10)] = "window",
    recipient_name: Annotated[str, Form(max_length=100)] = "",
    recipient_phone: Annotated[str, Form(max_length=32)] = "",
    address: Annotated[str, Form(max_length=500)] = "",
    postcode: Annotated[str, Form(max_length=6)] = "",
) -> Response:
    """Save the choice through management (its rules and messages)."""
    if not _form_ok(request, csrf):
        return _need_sign_in(request)
    values = {
        "method": method,
        "recipient_name": recipient_name.strip(),
        "recipient_phone": recipient_phone.strip(),
        "address": address.strip(),
        "postcode": postcode.strip(),
    }
    body: dict[str, Any] = {"method": method}
    if method == "post":
        body |= {k: v for k, v in values.items() if k != "method" and v}
    try:
        await _client(request).json("PUT", f"/cases/{case_no}/delivery", _token(request), json=body)
    except Problem as exc:
        message = exc.detail or exc.title
        if exc.status == 422:
            message = "邮寄送达须填写收件人、有效的联系电话和地址（邮编为 6 位数字）。"
        return await _delivery_page(request, case_no, values=values, error=message, status=exc.status)
    return RedirectResponse(f"/me/cases/{quote(case_no)}/delivery?saved=1", status_code=303)
