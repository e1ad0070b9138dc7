"""Helpers of the business tests: tokens, CaseAccepted factory, row counts."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_business.db import messaging
from yiwang_common.auth import Principal
from yiwang_common.contracts.management import CaseAccepted
from yiwang_common.events import EventEnvelope, make_event
from yiwang_common.testing import bearer, outbox_events

ORG = "11530428015176456L"
ORG_NAME = "元江县住房和城乡建设局"
OTHER_ORG = "11530428015170000X"
ITEM = "11530428015176456L2000109003000"
TABLES = (
    "e_licence, decision, case_log, task, business_case, workflow_definition, process_version, "
    "workflow_migration, counter, outbox, inbox"
)

TakeOver = Callable[..., Awaitable[CaseAccepted]]


def token(
    *roles: str,
    org: str | None = ORG,
    sub: str = "shencha",
    name: str = "审查员",
    region: str | None = "530428",
) -> dict[str, str]:
    """Authorization header for a staff member (or an applicant, when ``roles`` says so) of 元江县."""
    kind = "natural_person" if roles == ("applicant",) else "staff"
    principal = Principal(sub=sub, name=name, kind=kind, roles=frozenset(roles), org_code=org, region=region)
    return bearer(principal)


REVIEWER = token("reviewer")
APPROVER = token("approver", sub="juece", name="决定人")
ADMIN = token("admin", sub="admin", name="管理员")


def accepted(
    case_no: str | None = None, *, item_code: str = ITEM, org: str = ORG, **form: Any
) -> CaseAccepted:
    """A CaseAccepted payload as management publishes it."""
    case_no = case_no or f"53042820261123{uuid.uuid4().int % 10**7:07d}"
    return CaseAccepted.model_validate(
        {
            "case_no": case_no,
            "application_id": str(uuid.uuid4()),
            "item_code": item_code,
            "item_name": "建筑工程施工许可证核发",
            "implementing_org": {"name": ORG_NAME, "code": org},
            "applicant": {
                "account_id": "zhangsan",
                "name": "张三",
                "kind": "natural_person",
                "id_type": "111",
                "id_number": "530428199001011231",
            },
            "form": form
            or {
                "工程名称": "元江县第一中学教学楼",
                "建设地址": "元江县澧江街道",
                "建设规模": "5000平方米",
            },
            "materials": [
                {
                    "material_code": "M01",
                    "name": "申请表",
                    "sha256": "a" * 64,
                    "size": 10,
                    "media_type": "application/pdf",
                }
            ],
            "acceptance_notice_no": "元政服受〔2026〕1号",
            "handler_name": "窗口",
            "accepted_at": datetime(2026, 11, 23, 2, 0, tzinfo=UTC).isoformat(),
            "clock_start": "2026-11-23",
            "promised_limit_days": 10,
            "due_date": date(2026, 12, 7).isoformat(),
            "statutory_due_date": date(2026, 12, 21).isoformat(),
            "step": {
                "step_key": "accept",
                "step_name": "受理",
                "action": "pass",
                "handler_id": "chuangkou",
                "handler_name": "窗口",
                "started_at": "2026-11-23T01:00:00Z",
                "ended_at": "2026-11-23T02:00:00Z",
                "org": {"name": ORG_NAME, "code": org},
            },
        }
    )


def envelope(data: CaseAccepted) -> EventEnvelope:
    return make_event(
        data, source="urn:yiwang:530428:management", subject=data.case_no, correlation_id=data.case_no
    )


async def scalar(sessionmaker: async_sessionmaker[AsyncSession], sql: str, **params: Any) -> Any:
    async with sessionmaker() as session:
        return (await session.execute(text(sql), params)).scalar_one()


async def counts(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """Rows per table, to show that a refused request changed nothing."""
    return {t: await scalar(sessionmaker, f"SELECT count(*) FROM {t}") for t in TABLES.split(", ")}


async def outbox(sessionmaker: async_sessionmaker[AsyncSession]) -> list[tuple[str, dict[str, Any]]]:
    """The events written so far, as (NATS subject, envelope) in order."""
    return await outbox_events(sessionmaker, messaging.outbox)
