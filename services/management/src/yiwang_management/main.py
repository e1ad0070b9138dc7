"""Application factory of the management platform (政务服务管理平台)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import urlsplit

from fastapi import FastAPI

from yiwang_common.calendar import WorkingDayCalendar
from yiwang_common.runtime import ServiceSpec, create_service_app
from yiwang_management.case.endpoints import router as case_router
from yiwang_management.case.handlers import CaseEventHandlers
from yiwang_management.catalogue.endpoints import MAX_IMPORT_BYTES, router as catalogue_router
from yiwang_management.catalogue.worker import start_import_worker, stop_import_worker
from yiwang_management.config import Settings, get_settings
from yiwang_management.console.acceptance_pages import router as acceptance_pages
from yiwang_management.console.delivery_pages import router as delivery_pages
from yiwang_management.console.endpoints import router as console_router
from yiwang_management.console.joint_pages import router as joint_pages
from yiwang_management.console.rendering import install_console
from yiwang_management.console.staff_pages import router as staff_pages_router
from yiwang_management.db import messaging
from yiwang_management.delivery.endpoints import router as delivery_router
from yiwang_management.guide.endpoints import router as guide_router
from yiwang_management.item.endpoints import router as item_router
from yiwang_management.joint.endpoints import plugin_router, router as joint_router
from yiwang_management.joint.handlers import JointEventHandlers
from yiwang_management.models import load_all_models
from yiwang_management.organisation.endpoints import router as organisation_router
from yiwang_management.payment.endpoints import router as payment_router
from yiwang_management.supervision.calendar_store import CalendarSync
from yiwang_management.supervision.endpoints import router as supervision_router
from yiwang_management.supervision.pages import router as supervision_pages

log = logging.getLogger(__name__)

DESCRIPTION = """\
政务服务管理平台: the item catalogue (实施清单 and 办事指南) and the cases (办件) from registration
through acceptance (受理), one-time notices (一次性告知) and refusal to completion (办结) with
deadlines counted in working days. Staff see only the cases of items their unit implements.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the management service's FastAPI app."""
    settings = settings or get_settings()
    load_all_models()
    calendar = WorkingDayCalendar(settings.calendar.extra_holidays, settings.calendar.extra_workdays)
    handlers = CaseEventHandlers(
        calendar=calendar,
        region_code=settings.platform.region_code,
        supervision=settings.supervision,
        delivery=settings.delivery,
        unified=settings.platform.deployment_mode == "unified",
    )
    sync = CalendarSync(calendar, every_seconds=settings.supervision.calendar_refresh_seconds)
    refresher: list[asyncio.Task[None]] = []

    async def refresh_forever(app: FastAPI) -> None:
        # Another replica may load a year's schedule; this one picks it up within the interval.
        while True:
            await asyncio.sleep(sync.every_seconds)
            try:
                async with app.state.sessionmaker() as session:
                    await sync.refresh(session)
            except Exception:
                log.exception("holiday schedules could not be refreshed")

    async def on_startup(app: FastAPI) -> None:
        async with app.state.sessionmaker() as session:
            await sync.refresh(session, force=True)
        refresher.append(asyncio.create_task(refresh_forever(app), name="calendar-refresh"))
        await start_import_worker(app)

    async def on_shutdown(app: FastAPI) -> None:
        await stop_import_worker(app)
        for task in refresher:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    spec = ServiceSpec(
        name="management",
        title="政务服务管理平台 Management platform",
        description=DESCRIPTION,
        routers=[
            item_router,
            catalogue_router,
            guide_router,
            case_router,
            supervision_router,
            organisation_router,
            joint_router,
            plugin_router,
            payment_router,
            delivery_router,
        ],
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        tables=messaging,
        body_limits=[
            ("POST", "/api/v1/catalogue/imports", MAX_IMPORT_BYTES),
            ("POST", "/console/manage/imports", MAX_IMPORT_BYTES + 64 * 1024),
        ],
        # Steps and decisions of joint cases' parts (联办分件) go to joint/ (ADR 0112).
        subscriptions=JointEventHandlers(source=handlers.source, calendar=calendar).route_parts(
            handlers.subscriptions()
        ),
        openapi_tags=[
            {"name": "items", "description": "事项目录与办事指南 Item catalogue and service guides"},
            {
                "name": "catalogue",
                "description": "事项清单 Catalogue: 目录清单, 实施清单 versions (草稿→提交→审核→发布→撤销)",
            },
            {"name": "cases", "description": "办件 Cases: acceptance, one-time notices, refusal, progress"},
            {
                "name": "supervision",
                "description": "电子监察 E-supervision: deadlines, pauses, extension, warnings, 督办, "
                "on-time rates, holiday schedules (节假日安排)",
            },
            {
                "name": "joint",
                "description": "联办 Joint cases: one window, every department at once, one combined result",
            },
            {
                "name": "plugin",
                "description": "部门自建系统接入 Plug-in contract: external systems, their tokens, dispatches and callbacks",
            },
            {
                "name": "organisation",
                "description": "组织机构 Organisation: 行政区划 → 层级 → 部门 → 窗口/岗位, and the staff who hold them",
            },
        ],
    )
    app = create_service_app(spec, settings)
    # One calendar per process: the handlers, the endpoints and the schedule sync share it.
    app.state.calendar = calendar
    app.state.calendar_sync = sync
    sign_in = urlsplit(settings.console_sign_in_url)
    app.include_router(supervision_pages)
    app.include_router(staff_pages_router)
    app.include_router(acceptance_pages)
    app.include_router(delivery_pages)
    app.include_router(joint_pages)
    install_console(app, console_router, sign_in_origin=f"{sign_in.scheme}://{sign_in.netloc}")
    return app
