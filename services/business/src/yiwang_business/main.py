"""业务办理系统 app factory."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import FastAPI

from yiwang_business.config import Settings, get_settings
from yiwang_business.console.endpoints import router as console_router
from yiwang_business.console.rendering import install_console
from yiwang_business.db import messaging
from yiwang_business.document.endpoints import router as document_router
from yiwang_business.models import load_all_models
from yiwang_business.task.endpoints import case_router, migration_router, router as task_router, timer_router
from yiwang_business.task.handlers import management_subscription
from yiwang_business.workflow.endpoints import router as workflow_router
from yiwang_common.runtime import ServiceSpec, create_service_app

DESCRIPTION = """
业务办理系统 (business-handling system): a built-in, configurable workflow for implementing bodies
without their own approval system. Each item's process is versioned data (草稿 → 已发布), edited
here or imported from BPMN 2.0 (Activiti/Flowable subset): steps per post with limits in working
days, exclusive branches on the form data, 并联 branches with a join, 主办/协办; staff 退回, 转办,
催办, 挂起/恢复 and start 特殊程序, the applicant corrects (补正) or withdraws (撤回), and running
cases move to a new version only through a logged migration (docs/adr/0106). Accepted cases
(`yiwang.management.case.accepted.v1`) become tasks (待办) for the posts of each step; the 决定 step issues the 决定书 and the GB/T 36904 e-licence
and publishes `yiwang.business.case.decided.v1`. Departments with their own system plug in through
the events described in `services/business/PLUGIN_CONTRACT.md`.
"""

TAGS = [
    {"name": "workflows", "description": "流程定义 Workflow definitions per item"},
    {"name": "tasks", "description": "待办 Tasks of the caller's unit"},
    {"name": "cases", "description": "办件 Cases with tasks, decision and licence"},
]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the business service's app."""
    load_all_models()
    spec = ServiceSpec(
        name="business",
        title="一网 业务办理系统 Business",
        description=DESCRIPTION,
        routers=[workflow_router, migration_router, task_router, case_router, timer_router, document_router],
        tables=messaging,
        subscriptions=[management_subscription],
        openapi_tags=TAGS,
    )
    settings = settings or get_settings()
    app = create_service_app(spec, settings)
    # 业务办理系统's staff pages (ADR 0016, 0115): my tasks, a case's 并联 view, workflow diagrams.
    sign_in = urlsplit(settings.console_sign_in_url)
    install_console(app, console_router, sign_in_origin=f"{sign_in.scheme}://{sign_in.netloc}")
    return app
