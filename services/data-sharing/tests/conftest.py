"""Fixtures: one migrated PostgreSQL database, the app without workers, tokens and event factories."""

from __future__ import annotations

import base64
import os
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import yiwang_datasharing
from yiwang_common import testing
from yiwang_common.auth import Principal
from yiwang_common.checkdigits import mod37_36_check
from yiwang_common.contracts.business import CaseDecided, CaseStepCompleted
from yiwang_common.contracts.common import Applicant, DecisionDocument, ELicence, Organisation, StepRecord
from yiwang_common.contracts.gateway import ApplicationSubmitted, ApplicationSupplemented
from yiwang_common.contracts.management import (
    CaseAccepted,
    CaseCompleted,
    CaseRegistered,
    CaseRejected,
    CaseSupplementRequested,
    ItemPublished,
)
from yiwang_common.db import session_scope
from yiwang_common.events import EventData, EventEnvelope, make_event
from yiwang_common.migrations import upgrade_database
from yiwang_common.testing import ephemeral_auth
from yiwang_datasharing.config import Settings
from yiwang_datasharing.licence.service import LicenceSigner
from yiwang_datasharing.main import create_app, event_source
from yiwang_datasharing.subscriptions import build_subscriptions

MIGRATIONS = Path(yiwang_datasharing.__file__).parent / "migrations"
ORG = Organisation(name="元江县住房和城乡建设局", code="11530428015176456L")
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def bearer(
    sub: str, *, staff: bool = False, org: str | None = None, role: str = "acceptor"
) -> dict[str, str]:
    """Authorization header for an applicant, or for a staff member (窗口受理) of ``org`` (default ORG)."""
    principal = Principal(
        sub=sub,
        name="测试",
        kind="staff" if staff else "natural_person",
        roles=frozenset({role} if staff else {"applicant"}),
        org_code=(org or ORG.code) if staff else None,
    )
    return testing.bearer(principal)


def new_case_no() -> str:
    payload = "53042820261123" + f"{random.randrange(10**6):06d}"
    return payload + mod37_36_check(payload)


def material_ref(code: str = "M01") -> dict[str, Any]:
    return {
        "material_code": code,
        "name": f"材料{code}",
        "sha256": uuid.uuid4().hex * 2,
        "size": 10,
        "media_type": "application/pdf",
    }


def step(key: str, minute: int, name: str = "环节") -> StepRecord:
    return StepRecord(
        step_key=key,
        step_name=name,
        action="pass",
        handler_id="staff-1",
        handler_name="王五",
        opinion="同意",
        started_at=T0 + timedelta(minutes=minute - 1),
        ended_at=T0 + timedelta(minutes=minute),
        org=ORG,
    )


class CaseStory:
    """Events of one case, with ids fresh for each test."""

    def __init__(self) -> None:
        self.application_id = uuid.uuid4()
        self.case_no = new_case_no()
        self.applicant_id = f"acct-{uuid.uuid4().hex[:12]}"
        self.applicant = Applicant(
            account_id=self.applicant_id,
            name="张三",
            kind="natural_person",
            id_type="111",
            id_number="530428199001011231",
        )
        self.licence = ELicence(
            identifier=f"1.2.156.3005.2.11100000000013338W032.{ORG.code}.{self.case_no}.001.7",
            type_code="11100000000013338W032",
            type_name="建筑工程施工许可证",
            licence_no=self.case_no,
            holder_name="张三",
            holder_code="530428199001011231",
            holder_code_type="111",
            issuer=ORG,
            issued_on=date(2026, 11, 30),
            valid_from=date(2026, 11, 30),
            jurisdiction_code="530428",
            case_no=self.case_no,
            item_code="ITEM-001",
        )

    def ids(self) -> dict[str, Any]:
        return {"case_no": self.case_no, "application_id": self.application_id}

    def submitted(self, materials: list[dict[str, Any]] | None = None) -> ApplicationSubmitted:
        return ApplicationSubmitted.model_validate(
            {
                "application_id": self.application_id,
                "item_code": "ITEM-001",
                "applicant": self.applicant,
                "form": {"project": "元江县某项目"},
                "materials": materials if materials is not None else [material_ref("M01")],
                "submitted_at": T0,
            }
        )

    def registered(self) -> CaseRegistered:
        return CaseRegistered(
            **self.ids(),
            item_code="ITEM-001",
            item_name="建筑工程施工许可证核发",
            applicant=self.applicant,
            missing_materials=[],
            registered_at=T0,
        )

    def supplement_requested(self) -> CaseSupplementRequested:
        return CaseSupplementRequested.model_validate(
            {
                **self.ids(),
                "applicant_id": self.applicant_id,
                "notice_no": "补正〔2026〕1号",
                "missing_materials": [{"code": "M02", "name": "材料M02"}],
                "notice_text": "请补正",
                "handler_name": "王五",
                "issued_at": T0,
            }
        )

    def supplemented(self) -> ApplicationSupplemented:
        return ApplicationSupplemented.model_validate(
            {
                **self.ids(),
                "applicant_id": self.applicant_id,
                "materials": [material_ref("M02")],
                "supplemented_at": T0,
            }
        )

    def accepted(self, materials: list[dict[str, Any]] | None = None) -> CaseAccepted:
        return CaseAccepted.model_validate(
            {
                **self.ids(),
                "item_code": "ITEM-001",
                "item_name": "建筑工程施工许可证核发",
                "implementing_org": ORG,
                "applicant": self.applicant,
                "form": {"project": "元江县某项目"},
                "materials": materials
                if materials is not None
                else [material_ref("M01"), material_ref("M02")],
                "acceptance_notice_no": "受理〔2026〕1号",
                "handler_name": "王五",
                "accepted_at": T0,
                "clock_start": date(2026, 11, 23),
                "promised_limit_days": 5,
                "due_date": date(2026, 11, 30),
                "statutory_due_date": date(2026, 12, 21),
                "step": step("accept", 1, "受理"),
            }
        )

    def rejected(self) -> CaseRejected:
        return CaseRejected(
            **self.ids(),
            applicant_id=self.applicant_id,
            notice_no="不予受理〔2026〕1号",
            reason="不属于本机关职权范围",
            handler_name="王五",
            rejected_at=T0,
            step=step("accept", 1, "受理"),
        )

    def step_completed(self) -> CaseStepCompleted:
        return CaseStepCompleted(**self.ids(), step=step("review", 2, "审查"), next_step_name="决定")

    def decision(self) -> DecisionDocument:
        return DecisionDocument(
            document_no="元住建施许〔2026〕第000001号",
            title="准予行政许可决定书",
            body="准予",
            decided_at=T0,
            decider_name="赵六",
            org=ORG,
        )

    def decided(self, *, with_licence: bool = True) -> CaseDecided:
        return CaseDecided(
            **self.ids(),
            item_code="ITEM-001",
            outcome="approved",
            decision=self.decision(),
            licence=self.licence if with_licence else None,
            steps=[step("review", 2, "审查"), step("decide", 3, "决定")],
        )

    def completed(self) -> CaseCompleted:
        return CaseCompleted(
            **self.ids(),
            applicant_id=self.applicant_id,
            item_code="ITEM-001",
            outcome="approved",
            decision=self.decision(),
            licence=self.licence,
            completed_at=T0,
            due_date=date(2026, 11, 30),
            on_time=True,
            working_days_used=1,
            steps=[step("accept", 1, "受理"), step("review", 2, "审查"), step("decide", 3, "决定")],
        )


def envelope(data: EventData, minute: int) -> EventEnvelope:
    """An envelope as the producer would send it, timed ``minute`` minutes after T0."""
    source = f"urn:yiwang:530428:{data.producer()}"
    event = make_event(data, source=source, subject=getattr(data, "case_no", None))
    return event.model_copy(update={"time": T0 + timedelta(minutes=minute)})


# database_url (created and dropped; the app fixture migrates it) comes from the shared plugin
# (yiwang_common.testing.plugin).
@pytest.fixture(scope="session")
def database_prefix() -> str:
    return "yiwang_test_datasharing"


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database={"url": database_url},
        blob_dir=tmp_path_factory.mktemp("blobs"),
        run_workers=False,
        auth=ephemeral_auth(),
        licence_key_secret=base64.b64encode(os.urandom(32)).decode(),
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    await upgrade_database(settings.database, MIGRATIONS)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


@pytest.fixture(scope="session")
def sessionmaker(app: FastAPI) -> async_sessionmaker[AsyncSession]:
    sm: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    return sm


@pytest.fixture(scope="session")
def auth() -> Any:
    """``auth(sub, staff=False)``: an Authorization header."""
    return bearer


@pytest.fixture(scope="session")
def make_envelope() -> Any:
    """``make_envelope(data, minute)``: an envelope as its producer would send it."""
    return envelope


@pytest.fixture
def story() -> CaseStory:
    return CaseStory()


class Deliver:
    """Runs this service's real handlers, one unit of work per event, as the consumer would."""

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], source: str, signer: LicenceSigner
    ) -> None:
        self.sessionmaker = sessionmaker
        self.routes = {m: h for sub in build_subscriptions(source, signer) for m, h in sub.handlers.items()}

    async def __call__(
        self, data: EventData, minute: int = 0, env: EventEnvelope | None = None
    ) -> EventEnvelope:
        env = env or envelope(data, minute)
        async with session_scope(self.sessionmaker) as session:
            await self.routes[type(data)](session, env, data)
        return env


@pytest.fixture(scope="session")
def make_deliver(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings) -> Any:
    """``make_deliver(signer)``: a Deliver whose licences are signed by ``signer``."""
    return lambda signer: Deliver(sessionmaker, event_source(settings), signer)


def item_published(
    item_code: str = "ITEM-001", org: Organisation = ORG, region: str = "530428"
) -> ItemPublished:
    """The management event that tells data-sharing which unit implements an item."""
    return ItemPublished(
        item_code=item_code,
        basic_code="000109003000",
        name="建筑工程施工许可证核发",
        item_type="行政许可",
        version=1,
        implementing_org=org,
        region_code=region,
        statutory_limit_days=20,
        promised_limit_days=5,
        published_at=T0,
    )


@pytest.fixture(scope="session")
async def deliver(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, app: FastAPI
) -> Deliver:
    deliver = Deliver(sessionmaker, event_source(settings), app.state.licence_signer)
    # Every story's item is implemented by ORG in 元江县, as management would have announced.
    await deliver(item_published())
    return deliver


class Rows:
    """Counts rows, to show that refused input changed nothing."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    async def count(self, model: Any, *where: Any) -> int:
        async with self.sessionmaker() as session:
            return int(
                (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()
            )


@pytest.fixture(scope="session")
def rows(sessionmaker: async_sessionmaker[AsyncSession]) -> Rows:
    return Rows(sessionmaker)


def pdf() -> bytes:
    return b"%PDF-1.7\n" + uuid.uuid4().bytes + b"\n%%EOF\n"


@pytest.fixture
async def case(deliver: Any, story: Any, client: httpx.AsyncClient, auth: Any) -> Any:
    """A decided case of ORG's item with a real uploaded material and a licence."""
    content = pdf()
    uploaded = await client.post(
        "/api/v1/materials",
        files={"file": ("申请表.pdf", content, "application/pdf")},
        headers=auth(story.applicant_id),
    )
    assert uploaded.status_code == 201
    story.sha256 = uploaded.json()["sha256"]
    ref = {
        "material_code": "M01",
        "name": "申请表",
        "sha256": story.sha256,
        "size": len(content),
        "media_type": "application/pdf",
    }
    await deliver(story.submitted(materials=[ref]), 0)
    await deliver(story.registered(), 1)
    await deliver(story.accepted(materials=[ref]), 2)
    await deliver(story.decided(), 3)
    return story
