"""Test data of the management service: principals, tokens, payloads, and small DB helpers."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import yiwang_management
from yiwang_common.auth import Principal
from yiwang_common.contracts.common import Applicant, MaterialRef
from yiwang_common.contracts.gateway import ApplicationSubmitted, ApplicationSupplemented
from yiwang_common.db import session_scope, utcnow
from yiwang_common.events import make_event
from yiwang_common.staff_session import COOKIE_NAME, csrf_token
from yiwang_common.testing import bearer, outbox_events, token_issuer
from yiwang_management.case.handlers import CaseEventHandlers
from yiwang_management.case.models import Case
from yiwang_management.db import messaging
from yiwang_management.demo_items import CONSTRUCTION_PERMIT_ITEM_CODE, YUANJIANG_HOUSING

MIGRATIONS = Path(yiwang_management.__file__).parent / "migrations"
ORG_CODE = YUANJIANG_HOUSING.code
OTHER_ORG_CODE = "11530428015170000X"
ITEM_CODE = CONSTRUCTION_PERMIT_ITEM_CODE
ALL_MATERIALS = ("M01", "M02", "M03", "M04", "M05", "M06", "M07", "M08")
GATEWAY_SOURCE = "urn:yiwang:530428:gateway"

ACCEPTOR = Principal(
    sub="staff-chuangkou", name="窗口张敏", kind="staff", roles=frozenset({"acceptor"}), org_code=ORG_CODE
)
SUPERVISOR = Principal(
    sub="staff-jiancha", name="监察李强", kind="staff", roles=frozenset({"supervisor"}), org_code=ORG_CODE
)
REVIEWER = Principal(
    sub="staff-shencha", name="审查王伟", kind="staff", roles=frozenset({"reviewer"}), org_code=ORG_CODE
)
OTHER_ACCEPTOR = Principal(
    sub="staff-other",
    name="他局窗口",
    kind="staff",
    roles=frozenset({"acceptor"}),
    org_code=OTHER_ORG_CODE,
)
ADMIN = Principal(sub="admin", name="管理员", kind="staff", roles=frozenset({"admin"}), org_code=ORG_CODE)
APPLICANT = Applicant(
    account_id="acct-zhangsan",
    name="张三",
    kind="natural_person",
    id_type="111",
    id_number="530428199001011231",
)


def auth(principal: Principal) -> dict[str, str]:
    """Bearer header for a principal, signed with the test key."""
    return bearer(principal)


def material(code: str, label: str = "") -> MaterialRef:
    """A material reference whose content address depends on code and label."""
    digest = hashlib.sha256(f"{code}{label}".encode()).hexdigest()
    return MaterialRef(
        material_code=code, name=f"材料{code}", sha256=digest, size=2048, media_type="application/pdf"
    )


def submitted(codes: Iterable[str] = ALL_MATERIALS, *, item_code: str = ITEM_CODE) -> ApplicationSubmitted:
    """An ``ApplicationSubmitted`` payload for the construction permit."""
    return ApplicationSubmitted(
        application_id=uuid.uuid4(),
        item_code=item_code,
        applicant=APPLICANT,
        form={"工程名称": "元江县滨江花园二期 3# 住宅楼", "建设规模": 12800.5},
        materials=[material(c) for c in codes],
        submitted_at=utcnow() - timedelta(minutes=5),
    )


async def register(
    sessionmaker: async_sessionmaker[AsyncSession], handlers: CaseEventHandlers, data: ApplicationSubmitted
) -> str:
    """Deliver ``ApplicationSubmitted`` to the handler and return the new 办件编号."""
    envelope = make_event(data, source=GATEWAY_SOURCE, subject=str(data.application_id))
    async with session_scope(sessionmaker) as session:
        await handlers.on_application_submitted(session, envelope, data)
    async with session_scope(sessionmaker) as session:
        statement = select(Case.case_no).where(Case.application_id == data.application_id)
        return str((await session.execute(statement)).scalar_one())


async def outbox(
    sessionmaker: async_sessionmaker[AsyncSession], subject: str | None = None
) -> list[dict[str, Any]]:
    """Events waiting in the outbox (envelopes as dicts), oldest first."""
    rows = await outbox_events(sessionmaker, messaging.outbox, subject)
    return [envelope | {"nats_subject": nats_subject} for nats_subject, envelope in rows]


async def count(sessionmaker: async_sessionmaker[AsyncSession], table: Any) -> int:
    """Rows in a table (an ORM class or a Core table)."""
    async with session_scope(sessionmaker) as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar_one())


async def load_case(sessionmaker: async_sessionmaker[AsyncSession], case_no: str) -> Case:
    """The case as stored."""
    async with session_scope(sessionmaker) as session:
        case = await session.get(Case, case_no)
        assert case is not None
        return case


async def supplement(
    sessionmaker: async_sessionmaker[AsyncSession],
    handlers: CaseEventHandlers,
    case_no: str,
    codes: list[str],
    *,
    at: datetime | None = None,
    applicant_id: str = APPLICANT.account_id,
) -> None:
    """Deliver ``ApplicationSupplemented`` for some material codes to the handler."""
    data = ApplicationSupplemented(
        application_id=(await load_case(sessionmaker, case_no)).application_id,
        case_no=case_no,
        applicant_id=applicant_id,
        materials=[material(c, "supplement") for c in codes],
        supplemented_at=at or utcnow(),
    )
    async with session_scope(sessionmaker) as session:
        await handlers.on_application_supplemented(session, make_event(data, source=GATEWAY_SOURCE), data)


async def wait_for_job(
    client: httpx.AsyncClient, location: str, who: Principal, *, timeout: float = 120.0
) -> httpx.Response:
    """Poll an import job (the 202's Location) until it has ended; the last answer."""
    url = client.base_url.copy_with(path=location)
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        r = await client.get(url, headers=auth(who))
        if r.status_code != 200 or r.json()["finished"]:
            return r
        assert asyncio.get_running_loop().time() < deadline, f"import job not finished: {r.text[:500]}"
        await asyncio.sleep(0.05)


#: The console's origin in page tests (its CSRF rule compares it).
ORIGIN = "http://test"


class Browser:
    """A staff member's browser on the console: their session cookie and CSRF token."""

    def __init__(self, app: FastAPI, principal: Principal) -> None:
        self.token = token_issuer().issue(principal)
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=ORIGIN, cookies={COOKIE_NAME: self.token}
        )
        self.csrf = csrf_token(self.token)
