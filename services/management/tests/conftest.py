"""Fixtures: a migrated PostgreSQL database, the app on it, the catalogue and registered cases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI
from management_factories import ALL_MATERIALS, ITEM_CODE, MIGRATIONS, Browser, register, submitted
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.auth import Principal
from yiwang_common.calendar import WorkingDayCalendar
from yiwang_common.config import DatabaseSettings
from yiwang_common.db import session_scope
from yiwang_common.testing import ephemeral_auth
from yiwang_common.testing.plugin import Migrations
from yiwang_management.case.handlers import CaseEventHandlers
from yiwang_management.config import Settings
from yiwang_management.db import messaging
from yiwang_management.demo_items import demo_items
from yiwang_management.item.service import publish_item
from yiwang_management.main import create_app


# database_url (created, migrated, dropped) comes from the shared plugin (yiwang_common.testing.plugin).
@pytest.fixture(scope="session")
def database_prefix() -> str:
    return "yiwang_test_management"


@pytest.fixture(scope="session")
def database_migrations() -> Migrations:
    return Migrations(MIGRATIONS, "management")


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        database=DatabaseSettings(url=database_url),
        run_workers=False,
        auth=ephemeral_auth(),
        # The sandbox's own notification POST goes nowhere in tests (port 9 refuses at once);
        # tests hand the signed notification to the app themselves.
        payment={
            "notify_url": "http://127.0.0.1:9/api/v1/payments/notifications/sandbox",
            "notify_attempts": 1,
        },
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test/api/v1") as c:
        yield c


@pytest.fixture(scope="session")
def sessionmaker(app: FastAPI) -> async_sessionmaker[AsyncSession]:
    maker: async_sessionmaker[AsyncSession] = app.state.sessionmaker
    return maker


@pytest.fixture(autouse=True)
async def _clean(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with session_scope(sessionmaker) as session:
        await session.execute(
            text(
                "TRUNCATE supervision_action, supervision_warning, supervision_sweep, supervision_rule, calendar_schedule, case_step_clock, case_due_change, case_pause, case_deadline, case_step, case_delivery, delivery_event, payment_order, payment_notification, payment_reconciliation, payment_reconciliation_line, sandbox_payment, item_fee, item_payment_rule, case_file, case_sequence, item, item_version, catalogue_entry, catalogue_import, catalogue_import_error, catalogue_import_file, outbox, inbox, dead_letter RESTART IDENTITY CASCADE"
            )
        )


@pytest.fixture
def calendar() -> WorkingDayCalendar:
    return WorkingDayCalendar()


@pytest.fixture
def handlers(calendar: WorkingDayCalendar) -> CaseEventHandlers:
    return CaseEventHandlers(calendar=calendar, region_code="530428")


@pytest.fixture
async def item(sessionmaker: async_sessionmaker[AsyncSession]) -> str:
    """The construction permit, published; its outbox row is cleared so tests see only their own events."""
    async with session_scope(sessionmaker) as session:
        await publish_item(session, demo_items()[0], source="urn:yiwang:530428:management")
    # Outbox rows are written at commit, so they are cleared in a unit of work of their own.
    async with session_scope(sessionmaker) as session:
        await session.execute(messaging.outbox.delete())
    return ITEM_CODE


@pytest.fixture
async def case_no(
    sessionmaker: async_sessionmaker[AsyncSession], handlers: CaseEventHandlers, item: str
) -> str:
    """A registered case with every material."""
    return await register(sessionmaker, handlers, submitted())


@pytest.fixture
async def incomplete_case_no(
    sessionmaker: async_sessionmaker[AsyncSession], handlers: CaseEventHandlers, item: str
) -> str:
    """A registered case missing M03 and M08."""
    codes = [c for c in ALL_MATERIALS if c not in {"M03", "M08"}]
    return await register(sessionmaker, handlers, submitted(codes))


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[Callable[[Principal], Browser]]:
    """Console page tests: ``browser(principal)`` opens a signed-in staff browser, closed after."""
    made: list[Browser] = []

    def make(principal: Principal) -> Browser:
        made.append(Browser(app, principal))
        return made[-1]

    yield make
    for b in made:
        await b.http.aclose()
