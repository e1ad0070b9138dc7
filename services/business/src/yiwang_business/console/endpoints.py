"""Pages under ``/console/handle``: 我的待办 with the step actions, a case with its 并联 branches, and
each workflow definition drawn as a diagram (ADR 0016, 0021, 0115).

Staff arrive signed in: the ``yiwang_staff`` cookie holds the token the gateway issued, verified like
a bearer token. Every POST carries the session's CSRF token, must come from this origin (when
``Origin`` is sent), and the cookie is SameSite=Strict. The actions call the same services as the
API (``task_service``, ``case_actions``), so the rules and their zh-CN messages are the API's; a
refused action shows the task page again with the message beside the form, with the API's status.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_business.console import service
from yiwang_business.console.rendering import PREFIX, PageRoute, render
from yiwang_business.task.actions import case_actions
from yiwang_business.task.schemas import PauseBody, ReturnBody, TaskComplete, TransferBody
from yiwang_business.task.service import Origin, task_service
from yiwang_business.workflow.diagram import render_svg
from yiwang_business.workflow.schemas import ITEM_CODE_PATTERN, STATUS_NAMES, WorkflowBody
from yiwang_business.workflow.service import workflow_service
from yiwang_common.auth import Principal
from yiwang_common.db import get_session
from yiwang_common.http.pagination import PageParams
from yiwang_common.http.problems import Problem
from yiwang_common.staff_session import (
    COOKIE_NAME,
    COOKIE_PATH,
    CSRF_FIELD,
    REFRESH_COOKIE_NAME,
    REFRESH_COOKIE_PATH,
)
from yiwang_common.web.console import Staff, check_form as _check_form

Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
CsrfField = Annotated[str, Form(alias=CSRF_FIELD, max_length=128)]
TaskIdPath = Annotated[uuid.UUID, Path()]
CaseNoPath = Annotated[str, Path(pattern=r"^[0-9A-Za-z]{1,64}$")]
ItemCodePath = Annotated[str, Path(pattern=ITEM_CODE_PATTERN)]
VersionPath = Annotated[int, Path(ge=1, le=1_000_000)]
ReasonField = Annotated[str, Form(max_length=1000)]

router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)


def _source(request: Request) -> str:
    return str(request.app.state.runtime.source)


def _message(exc: ValidationError | Problem) -> str:
    if isinstance(exc, Problem):
        return exc.detail or exc.title
    return "请检查填写的内容：" + "；".join(
        str(e.get("msg", "")).removeprefix("Value error, ") for e in exc.errors()[:3]
    )


def _globals(request: Request) -> dict[str, str]:
    return {"manage_url": request.app.state.settings.console_manage_url}


# --- 我的待办 ----------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def my_tasks(
    request: Request,
    session: Session,
    staff: Staff,
    status: Annotated[Literal["open", "done"], Query()] = "open",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    done: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    """我的待办 / 已办: the tasks of the staff's unit for the posts they hold."""
    tasks = await task_service.list(
        session, principal=staff, status=status, page=PageParams(page=page, limit=50)
    )
    return render(
        request,
        "tasks.html",
        _globals(request)
        | {
            "tasks": tasks,
            "status": status,
            "notice": done,
            "role_name": service.role_name,
            "kind_names": service.KIND_NAMES,
            "status_names": service.TASK_STATUS_NAMES,
        },
    )


async def _task_page(
    request: Request,
    session: AsyncSession,
    staff: Principal,
    task_id: uuid.UUID,
    *,
    error: str = "",
    form: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    task = await task_service.get(session, task_id=task_id, principal=staff)
    view = await task_service.case_view(
        session, case_no=task.case_no, principal=staff, source=_source(request)
    )
    return render(
        request,
        "task.html",
        _globals(request)
        | {
            "task": task,
            "case": view,
            "error": error,
            "error_form": form,
            "return_targets": service.return_targets(view, task),
            "roles": list(service.ROLE_NAMES.items()),
            "role_name": service.role_name,
            "kind_names": service.KIND_NAMES,
            "status_names": service.TASK_STATUS_NAMES,
            "decision_names": service.DECISION_NAMES,
            "clock_text": service.clock_text(view),
        },
        status_code=status_code,
    )


@router.get("/tasks/{task_id}", response_class=HTMLResponse)
async def task_page(request: Request, session: Session, staff: Staff, task_id: TaskIdPath) -> HTMLResponse:
    """待办: the case's facts (applicant, form, materials) and the step's actions."""
    return await _task_page(request, session, staff, task_id)


@router.post("/tasks/{task_id}/complete", response_class=HTMLResponse)
async def complete_page(
    request: Request,
    session: Session,
    staff: Staff,
    task_id: TaskIdPath,
    csrf: CsrfField = "",
    decision: Annotated[str, Form(max_length=10)] = "",
    opinion: ReasonField = "",
) -> Response:
    """办理: complete the step with the decision and the opinion (处理意见)."""
    _check_form(request, csrf)
    origin = Origin(source=_source(request), region_code=request.app.state.settings.platform.region_code)
    try:
        body = TaskComplete(decision=decision, opinion=opinion.strip())
        async with session.begin_nested():  # a refusal undoes only itself
            done = await task_service.complete(
                session, task_id=task_id, principal=staff, body=body, origin=origin
            )
    except (ValidationError, Problem) as exc:
        status = exc.status if isinstance(exc, Problem) else 422
        return await _task_page(
            request, session, staff, task_id, error=_message(exc), form="complete", status_code=status
        )
    notice = "已办结" if done.case_status == "decided" else "已办理"
    return RedirectResponse(
        f"{PREFIX}/?{urlencode({'done': f'{done.task.case_no} {notice}'})}", status_code=303
    )


@router.post("/tasks/{task_id}/return", response_class=HTMLResponse)
async def return_page(
    request: Request,
    session: Session,
    staff: Staff,
    task_id: TaskIdPath,
    csrf: CsrfField = "",
    to: Annotated[str, Form(max_length=32)] = "",
    reason: ReasonField = "",
) -> Response:
    """退回: to an earlier step, or to the applicant for correction (补正)."""
    _check_form(request, csrf)
    try:
        body = ReturnBody(to=to, reason=reason.strip())
        async with session.begin_nested():  # a refusal undoes only itself
            result = await case_actions.return_(
                session, task_id=task_id, principal=staff, body=body, source=_source(request)
            )
    except (ValidationError, Problem) as exc:
        status = exc.status if isinstance(exc, Problem) else 422
        return await _task_page(
            request, session, staff, task_id, error=_message(exc), form="return", status_code=status
        )
    return RedirectResponse(f"{PREFIX}/cases/{result.case_no}", status_code=303)


@router.post("/tasks/{task_id}/transfer", response_class=HTMLResponse)
async def transfer_page(
    request: Request,
    session: Session,
    staff: Staff,
    task_id: TaskIdPath,
    csrf: CsrfField = "",
    role: Annotated[str, Form(max_length=32)] = "",
    org_code: Annotated[str, Form(max_length=32)] = "",
    reason: ReasonField = "",
) -> Response:
    """转办: the same step for another post and/or department."""
    _check_form(request, csrf)
    try:
        body = TransferBody(
            role=role or None,
            org_code=org_code.strip() or None,
            reason=reason.strip(),
        )
        async with session.begin_nested():  # a refusal undoes only itself
            result = await case_actions.transfer(
                session, task_id=task_id, principal=staff, body=body, source=_source(request)
            )
    except (ValidationError, Problem) as exc:
        status = exc.status if isinstance(exc, Problem) else 422
        return await _task_page(
            request, session, staff, task_id, error=_message(exc), form="transfer", status_code=status
        )
    return RedirectResponse(f"{PREFIX}/cases/{result.case_no}", status_code=303)


@router.post("/tasks/{task_id}/clock", response_class=HTMLResponse)
async def clock_page(
    request: Request,
    session: Session,
    staff: Staff,
    task_id: TaskIdPath,
    action: Annotated[Literal["suspend", "resume"], Form()],
    csrf: CsrfField = "",
    reason: ReasonField = "",
) -> Response:
    """挂起 / 恢复 the case of this task, with the reason."""
    _check_form(request, csrf)
    task = await task_service.get(session, task_id=task_id, principal=staff)
    act = case_actions.suspend if action == "suspend" else case_actions.resume
    try:
        body = PauseBody(reason=reason.strip())
        async with session.begin_nested():  # a refusal undoes only itself
            await act(
                session, case_no=task.case_no, principal=staff, reason=body.reason, source=_source(request)
            )
    except (ValidationError, Problem) as exc:
        status = exc.status if isinstance(exc, Problem) else 422
        return await _task_page(
            request, session, staff, task_id, error=_message(exc), form="clock", status_code=status
        )
    return RedirectResponse(f"{PREFIX}/tasks/{task_id}", status_code=303)


# --- 办件 (并联视图) ----------------------------------------------------------------------------


@router.get("/cases/{case_no}", response_class=HTMLResponse)
async def case_page(request: Request, session: Session, staff: Staff, case_no: CaseNoPath) -> HTMLResponse:
    """办件: every step so far, the 并联 branches with each branch's post and state, and the log."""
    view = await task_service.case_view(session, case_no=case_no, principal=staff, source=_source(request))
    return render(
        request,
        "case.html",
        _globals(request)
        | {
            "case": view,
            "splits": await service.parallel_branches(session, view),
            "role_name": service.role_name,
            "kind_names": service.KIND_NAMES,
            "status_names": service.TASK_STATUS_NAMES,
            "case_status_names": service.CASE_STATUS_NAMES,
            "action_names": service.ACTION_NAMES,
            "decision_names": service.DECISION_NAMES,
            "clock_text": service.clock_text(view),
        },
    )


# --- 流程定义与流程图 -------------------------------------------------------------------------


@router.get("/workflows", response_class=HTMLResponse)
async def workflows_page(
    request: Request, session: Session, staff: Staff, page: Annotated[int, Query(ge=1, le=10_000)] = 1
) -> HTMLResponse:
    """流程定义: each item's published definition, drawn."""
    listing = await workflow_service.list(session, page=PageParams(page=page, limit=50))
    return render(request, "workflows.html", _globals(request) | {"workflows": listing})


@router.get("/workflows/{item_code}", response_class=HTMLResponse)
async def workflow_page(
    request: Request, session: Session, staff: Staff, item_code: ItemCodePath
) -> HTMLResponse:
    """One item's definition: the published head's diagram and every stored version's."""
    head = await workflow_service.effective(session, item_code=item_code)
    versions = (await workflow_service.versions(session, item_code=item_code)).items
    return render(
        request,
        "workflow.html",
        _globals(request)
        | {"head": head, "versions": versions, "status_names": STATUS_NAMES, "role_name": service.role_name},
    )


def _svg(body: WorkflowBody, title: str) -> Response:
    return Response(
        render_svg(body, title=title), media_type="image/svg+xml", headers={"Cache-Control": "no-store"}
    )


@router.get("/workflows/{item_code}/diagram.svg")
async def head_diagram(request: Request, session: Session, staff: Staff, item_code: ItemCodePath) -> Response:
    """流程图 of the definition new cases of the item take (the built-in default when none is stored)."""
    head = await workflow_service.effective(session, item_code=item_code)
    return _svg(head, f"{head.item_code} 流程定义 v{head.version}")


@router.get("/workflows/{item_code}/versions/{version}/diagram.svg")
async def version_diagram(
    request: Request, session: Session, staff: Staff, item_code: ItemCodePath, version: VersionPath
) -> Response:
    """流程图 of one stored version."""
    row = await workflow_service.version(session, item_code=item_code, version=version)
    return _svg(row.definition, f"{item_code} 流程定义 v{row.version}（{STATUS_NAMES[row.status]}）")


@router.post("/sign-out")
async def sign_out(request: Request, csrf: CsrfField = "") -> Response:
    """退出登录: the cookie is the staff origin's, so any console half may drop it."""
    _check_form(request, csrf)
    response = RedirectResponse(request.app.state.settings.console_sign_in_url, status_code=303)
    secure = request.url.scheme == "https"
    response.delete_cookie(COOKIE_NAME, path=COOKIE_PATH, secure=secure, httponly=True, samesite="strict")
    response.delete_cookie(
        REFRESH_COOKIE_NAME, path=REFRESH_COOKIE_PATH, secure=secure, httponly=True, samesite="strict"
    )
    return response
