"""Pages: ``/sign-up`` (自然人 / 法人注册) and ``/me`` (我的), server-rendered, working without JavaScript.

A citizen's page session is the portal's ``yiwang_session`` cookie (identity.cookies.PORTAL) holding their access token (HttpOnly,
SameSite=Strict, Secure over https), verified like a bearer token; a sign-up sets it. Forms that
change something carry the session's CSRF token (``yiwang_common.staff_session.csrf_token``)
and must come from this origin. The pages call the same services as the API, so the rules, the
checks and the zh-CN messages are the API's.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from yiwang_common.auth import Principal, TokenIssuer, TokenVerifier
from yiwang_common.http.pagination import PageParams
from yiwang_common.http.problems import Problem, Unauthorized
from yiwang_common.staff_session import csrf_matches, csrf_token, same_origin
from yiwang_gateway.account.agents import agent_service, today
from yiwang_gateway.account.registration import registration_service
from yiwang_gateway.account.registry import RegistryClient
from yiwang_gateway.account.schemas import AGENT_ACTIONS, AgentGrant, LegalPersonSignUp, NaturalPersonSignUp
from yiwang_gateway.account.service import account_service
from yiwang_gateway.application.service import application_service
from yiwang_gateway.config import Settings, UpstreamProvider
from yiwang_gateway.dependencies import GUARDS, SessionDep
from yiwang_gateway.draft.service import draft_service
from yiwang_gateway.identity.cookies import PORTAL, clear_session
from yiwang_gateway.myspace.service import myspace_service
from yiwang_gateway.progress.service import progress_service
from yiwang_gateway.web.guides import GuideClient, NoticeNotFound
from yiwang_gateway.web.rendering import PageRoute, render

router = APIRouter(tags=["pages"], dependencies=GUARDS, route_class=PageRoute, include_in_schema=False)

#: One portal session for sign-in (identity/pages.py) and sign-up: the same access-token cookie.
COOKIE_NAME = PORTAL.access
ACTION_LABELS = {"apply": "申请", "supplement": "补正", "withdraw": "撤回", "view": "查看"}
FIELD_LABELS = {
    "username": "用户名",
    "password": "密码",
    "name": "姓名/单位名称",
    "id_number": "公民身份号码",
    "mobile": "手机号码",
    "credit_code": "统一社会信用代码",
    "legal_rep_name": "法定代表人姓名",
    "legal_rep_id_number": "法定代表人公民身份号码",
    "agent_name": "经办人姓名",
    "agent_id_number": "经办人公民身份号码",
    "actions": "授权范围",
    "valid_from": "起始日期",
    "valid_until": "截止日期",
}


def _session_token(request: Request) -> str | None:
    return request.cookies.get(COOKIE_NAME) or None


def page_principal(request: Request) -> Principal | None:
    """The signed-in citizen of a page request, or None (no cookie, or an expired or forged one)."""
    token = _session_token(request)
    if token is None:
        return None
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        principal = verifier.verify(token)
    except Unauthorized:
        return None
    return principal if principal.kind in ("natural_person", "legal_person") else None


def _set_session(
    request: Request, response: Response, principal: Principal, *, ttl: int | None = None
) -> None:
    settings: Settings = request.app.state.settings
    issuer: TokenIssuer = request.app.state.token_issuer
    lifetime = ttl or settings.auth.token_ttl_seconds
    _set_cookie(request, response, issuer.issue(principal, ttl_seconds=lifetime), lifetime)


def _set_cookie(request: Request, response: Response, token: str, max_age: int) -> None:
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=max_age,
        path="/",
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="strict",
    )


def _validation_message(exc: ValidationError) -> str:
    names = []
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ())]
        names.append(FIELD_LABELS.get(loc[0], loc[0]) if loc else "表单")
    return "请检查：" + "、".join(dict.fromkeys(names))


def _problem_message(exc: Problem) -> str:
    return exc.detail or exc.title


def _registry(request: Request) -> RegistryClient:
    client: RegistryClient = request.app.state.registry
    return client


# --- sign-up ------------------------------------------------------------------------------------


SignUpKind = Literal["person", "company"]


def _province_holds_accounts(request: Request) -> UpstreamProvider | None:
    """统分, a city portal: the province that registers everyone (ADR 0114), else None."""
    upstream: UpstreamProvider | None = request.app.state.federation.upstream
    return upstream


def _register_at_province(
    request: Request, upstream: UpstreamProvider, kind: SignUpKind | None, status_code: int = 200
) -> HTMLResponse:
    """The city's sign-up page under 统分: accounts are the province's; sign in through it."""
    base = (upstream.sign_up_url or upstream.issuer.rstrip("/") + "/sign-up").rstrip("/")
    return render(
        request,
        "sign_up_delegated.html",
        {
            "q": "",
            "kind": kind,
            "province": upstream.name,
            "sign_up_url": base + ("/" + kind if kind else ""),
        },
        status_code=status_code,
    )


@router.get("/sign-up", response_class=HTMLResponse)
async def sign_up_choice(request: Request) -> HTMLResponse:
    """注册: choose 个人 or 法人 (统分, at a city: where to register instead)."""
    if (upstream := _province_holds_accounts(request)) is not None:
        return _register_at_province(request, upstream, None)
    return render(request, "sign_up.html", {"q": ""})


def _person_form(
    request: Request, values: dict[str, str], error: str = "", status_code: int = 200
) -> HTMLResponse:
    return render(
        request, "sign_up_person.html", {"q": "", "values": values, "error": error}, status_code=status_code
    )


def _company_form(
    request: Request, values: dict[str, str], error: str = "", status_code: int = 200
) -> HTMLResponse:
    return render(
        request, "sign_up_company.html", {"q": "", "values": values, "error": error}, status_code=status_code
    )


@router.get("/sign-up/person", response_class=HTMLResponse)
async def sign_up_person_page(request: Request) -> HTMLResponse:
    """自然人注册 The form."""
    if (upstream := _province_holds_accounts(request)) is not None:
        return _register_at_province(request, upstream, "person")
    return _person_form(request, {})


@router.post("/sign-up/person", response_class=HTMLResponse)
async def sign_up_person(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=128)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    id_number: Annotated[str, Form(max_length=32)] = "",
    mobile: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Verify against the 人口库, create the account, sign in, go to 我的."""
    if (upstream := _province_holds_accounts(request)) is not None:
        # Like the API's 409 register_at_province: a city portal registers nobody.
        return _register_at_province(request, upstream, "person", 409)
    values = {"username": username, "name": name, "id_number": id_number, "mobile": mobile}
    if not same_origin(request.headers.get("origin"), request.url.scheme, request.url.netloc):
        return _person_form(request, values, "请从本站注册页面提交。", 403)
    try:
        body = NaturalPersonSignUp(
            username=username.strip(),
            password=password,
            name=name.strip(),
            id_number=id_number,
            mobile=mobile.strip(),
        )
    except ValidationError as exc:
        return _person_form(request, values, _validation_message(exc), 422)
    try:
        registered = await registration_service.natural_person(
            session, body=body, registry=_registry(request)
        )
    except Problem as exc:
        return _person_form(request, values, _problem_message(exc), exc.status)
    account = await account_service.get_active(session, account_id=registered.id)
    response = RedirectResponse("/me?welcome=1", status_code=303)
    _set_session(request, response, account_service.principal(account))
    return response


@router.get("/sign-up/company", response_class=HTMLResponse)
async def sign_up_company_page(request: Request) -> HTMLResponse:
    """法人注册 The form."""
    if (upstream := _province_holds_accounts(request)) is not None:
        return _register_at_province(request, upstream, "company")
    return _company_form(request, {})


@router.post("/sign-up/company", response_class=HTMLResponse)
async def sign_up_company(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=128)] = "",
    credit_code: Annotated[str, Form(max_length=32)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    legal_rep_name: Annotated[str, Form(max_length=100)] = "",
    legal_rep_id_number: Annotated[str, Form(max_length=32)] = "",
    mobile: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Verify against the 法人库, create the legal person's account, sign in, go to 我的."""
    if (upstream := _province_holds_accounts(request)) is not None:
        return _register_at_province(request, upstream, "company", 409)
    values = {
        "username": username,
        "credit_code": credit_code,
        "name": name,
        "legal_rep_name": legal_rep_name,
        "legal_rep_id_number": legal_rep_id_number,
        "mobile": mobile,
    }
    if not same_origin(request.headers.get("origin"), request.url.scheme, request.url.netloc):
        return _company_form(request, values, "请从本站注册页面提交。", 403)
    try:
        body = LegalPersonSignUp(
            username=username.strip(),
            password=password,
            credit_code=credit_code,
            name=name.strip(),
            legal_rep_name=legal_rep_name.strip(),
            legal_rep_id_number=legal_rep_id_number,
            mobile=mobile.strip(),
        )
    except ValidationError as exc:
        return _company_form(request, values, _validation_message(exc), 422)
    try:
        registered = await registration_service.legal_person(session, body=body, registry=_registry(request))
    except Problem as exc:
        return _company_form(request, values, _problem_message(exc), exc.status)
    account = await account_service.get_active(session, account_id=registered.id)
    response = RedirectResponse("/me?welcome=1", status_code=303)
    _set_session(request, response, account_service.principal(account))
    return response


# --- my space -----------------------------------------------------------------------------------


def _need_sign_in(request: Request) -> HTMLResponse:
    return render(request, "need_sign_in.html", {"q": ""}, status_code=401)


async def _space(
    request: Request, session: SessionDep, principal: Principal, *, notice: str = "", error: str = ""
) -> dict[str, Any]:
    """Everything the 我的 page shows; each part degrades alone (a registry outage hides licences only)."""
    own = await account_service.get_active(session, account_id=principal.sub)
    context: dict[str, Any] = {
        "q": "",
        "notice": notice,
        "error": error,
        "profile": account_service.profile(own, principal),
        "csrf": csrf_token(_session_token(request) or ""),
        "actions": [(a, ACTION_LABELS[a]) for a in AGENT_ACTIONS],
        "today": today().isoformat(),
        "year_later": (today() + timedelta(days=365)).isoformat(),
        "acting_name": None,
        "cases": None,
        "drafts": None,
        "materials": None,
        "licences": None,
        "licence_error": "",
        "companies": [],
        "agents": None,
        "space_error": "",
    }
    try:
        acting = await agent_service.acting(session, principal=principal, action="view")
    except Problem as exc:
        context["space_error"] = _problem_message(exc)
        acting = None
    if acting is not None:
        applicant = acting.principal
        context["acting_name"] = applicant.name if acting.agent else None
        first = PageParams(page=1, limit=10)
        context["cases"] = await application_service.list_own(
            session, principal=applicant, status=None, page=first
        )
        context["materials"] = await myspace_service.materials(session, principal=applicant, page=first)
        context["drafts"] = await draft_service.list_open(session, principal=applicant, page=first)
        try:
            context["licences"] = await myspace_service.licences(
                session, principal=applicant, registry=_registry(request)
            )
        except Problem as exc:
            context["licence_error"] = _problem_message(exc)
    if principal.kind == "natural_person":
        context["companies"] = await agent_service.companies(session, principal=principal)
    try:
        context["agents"] = await agent_service.list(session, principal=principal)
    except Problem:
        context["agents"] = None  # not a legal person (nor its representative): no agents section
    return context


@router.get("/me", response_class=HTMLResponse)
async def my_space(request: Request, session: SessionDep, welcome: str = "") -> HTMLResponse:
    """我的: profile, cases, materials, licences, the units one may act for, and (legal persons) agents."""
    principal = page_principal(request)
    if principal is None:
        return _need_sign_in(request)
    notice = "注册成功，已完成实名核验（实名等级 L2）。" if welcome else ""
    return render(request, "myspace.html", await _space(request, session, principal, notice=notice))


@router.get("/me/cases/{case_no}/notices/{kind}.pdf")
async def my_notice_pdf(
    request: Request,
    session: SessionDep,
    case_no: Annotated[str, Path(pattern=r"^[0-9A-Za-z]{1,32}$")],
    kind: Annotated[Literal["acceptance", "supplement", "rejection", "joint"], Path()],
) -> Response:
    """我的办件的通知书 (and a joint case's 联办结果告知书): fetched from management with this session's
    own token (management checks it too); a case that is not the caller's never reaches management."""
    token = _session_token(request)
    principal = page_principal(request)
    if principal is None or token is None:
        return _need_sign_in(request)
    owner = principal
    if principal.acting_for is not None:
        owner = (await agent_service.acting(session, principal=principal, action="view")).principal
    # The portal's own record first, for every kind as the API does: a stranger's case number
    # never reaches management.
    if not await progress_service.owns(session, principal=owner, case_no=case_no):
        raise NoticeNotFound(f"办件 {case_no} 没有可下载的通知书")
    guides: GuideClient = request.app.state.guides
    return await guides.notice(case_no, kind, f"Bearer {token}")


def _checked_form(request: Request, csrf: str) -> Principal | None:
    principal = page_principal(request)
    token = _session_token(request)
    if principal is None or token is None:
        return None
    if not same_origin(request.headers.get("origin"), request.url.scheme, request.url.netloc):
        return None
    return principal if csrf_matches(token, csrf) else None


@router.post("/me/acting-for", response_class=HTMLResponse)
async def act_for_page(
    request: Request,
    session: SessionDep,
    csrf: Annotated[str, Form(max_length=128)] = "",
    credit_code: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """以单位身份办事: swap the session for one acting for the unit (or back to oneself with no code)."""
    principal = _checked_form(request, csrf)
    if principal is None:
        return _need_sign_in(request)
    response = RedirectResponse("/me", status_code=303)
    if not credit_code:
        own = await account_service.get_active(session, account_id=principal.sub)
        _set_session(request, response, account_service.principal(own))
        return response
    settings: Settings = request.app.state.settings
    try:
        acting = await agent_service.acting_token(
            session,
            principal=principal,
            credit_code=credit_code,
            issuer=request.app.state.token_issuer,
            max_ttl=settings.auth.token_ttl_seconds,
        )
    except Problem as exc:
        context = await _space(request, session, principal, error=_problem_message(exc))
        return render(request, "myspace.html", context, status_code=exc.status)
    _set_cookie(request, response, acting.access_token, acting.expires_in)
    return response


@router.post("/me/agents", response_class=HTMLResponse)
async def grant_agent_page(
    request: Request,
    session: SessionDep,
    csrf: Annotated[str, Form(max_length=128)] = "",
    agent_name: Annotated[str, Form(max_length=100)] = "",
    agent_id_number: Annotated[str, Form(max_length=32)] = "",
    actions: Annotated[list[str], Form(max_length=4)] = [],  # noqa: B006
    item_codes: Annotated[str, Form(max_length=2000)] = "",
    valid_from: Annotated[str, Form(max_length=10)] = "",
    valid_until: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """授权经办人 from the page."""
    principal = _checked_form(request, csrf)
    if principal is None:
        return _need_sign_in(request)
    try:
        body = AgentGrant.model_validate(
            {
                "agent_name": agent_name.strip(),
                "agent_id_number": agent_id_number,
                "actions": actions,
                "item_codes": [c.strip() for c in item_codes.replace("，", ",").split(",") if c.strip()],
                "valid_from": valid_from,
                "valid_until": valid_until,
            }
        )
        await agent_service.grant(session, principal=principal, body=body)
    except ValidationError as exc:
        context = await _space(request, session, principal, error=_validation_message(exc))
        return render(request, "myspace.html", context, status_code=422)
    except Problem as exc:
        context = await _space(request, session, principal, error=_problem_message(exc))
        return render(request, "myspace.html", context, status_code=exc.status)
    return RedirectResponse("/me#agents", status_code=303)


@router.post("/me/agents/{authorisation_id}/revoke", response_class=HTMLResponse)
async def revoke_agent_page(
    request: Request,
    session: SessionDep,
    authorisation_id: uuid.UUID,
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """撤销经办人授权 from the page."""
    principal = _checked_form(request, csrf)
    if principal is None:
        return _need_sign_in(request)
    try:
        await agent_service.revoke(session, principal=principal, authorisation_id=authorisation_id)
    except Problem as exc:
        context = await _space(request, session, principal, error=_problem_message(exc))
        return render(request, "myspace.html", context, status_code=exc.status)
    return RedirectResponse("/me#agents", status_code=303)


@router.post("/me/sign-out")
async def sign_out(request: Request) -> Response:
    """退出登录 of pages rendered before the 我的 page posted to ``/sign-out``: drop both cookies.

    It carries no CSRF token, so it ends no session; the page's own button posts to
    ``/sign-out``, which ends the session (and, under 统分, the province's, ADR 0116).
    """
    response = RedirectResponse("/", status_code=303)
    clear_session(response, request, PORTAL)
    return response
