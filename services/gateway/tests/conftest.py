"""Shared fixtures: a real PostgreSQL database with the real migrations, the app, tokens, a fake data-sharing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from gateway_support import (
    ALL_TABLES,
    MIGRATIONS,
    ORG,
    Accounts,
    FakeDataSharing,
    FakeManagement,
    envelope,
    item_published,
    make_settings,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.auth import TokenIssuer
from yiwang_common.contracts.management import ItemPublished
from yiwang_common.db import session_scope
from yiwang_common.testing.plugin import Migrations
from yiwang_gateway.account.models import Account
from yiwang_gateway.account.passwords import hash_password_sync
from yiwang_gateway.account.service import account_service
from yiwang_gateway.catalogue.events import on_item_published
from yiwang_gateway.main import create_app
from yiwang_gateway.material.client import TRANSPORT_STATE_KEY
from yiwang_gateway.search.service import search_service
from yiwang_gateway.web import guides


# database_url (created, migrated, dropped) and issuer come from the shared plugin
# (yiwang_common.testing.plugin).
@pytest.fixture(scope="session")
def database_prefix() -> str:
    return "yiwang_test_gateway"


@pytest.fixture(scope="session")
def database_migrations() -> Migrations:
    return Migrations(MIGRATIONS, "gateway")


@pytest.fixture(scope="session")
def fake_datasharing() -> FakeDataSharing:
    return FakeDataSharing()


@pytest.fixture(scope="session")
def fake_management() -> FakeManagement:
    return FakeManagement()


@pytest.fixture(scope="session")
async def app(
    database_url: str, fake_datasharing: FakeDataSharing, fake_management: FakeManagement
) -> AsyncIterator[FastAPI]:
    application = create_app(make_settings(database_url))
    setattr(application.state, TRANSPORT_STATE_KEY, httpx.MockTransport(fake_datasharing))
    setattr(application.state, guides.TRANSPORT_STATE_KEY, httpx.MockTransport(fake_management))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
        yield c


@pytest.fixture(scope="session")
def sessionmaker(app: FastAPI) -> async_sessionmaker[AsyncSession]:
    return app.state.sessionmaker  # type: ignore[no-any-return]


@pytest.fixture(autouse=True)
async def _clean(
    request: pytest.FixtureRequest, fake_datasharing: FakeDataSharing, fake_management: FakeManagement
) -> None:
    fake_datasharing.mode = "ok"
    fake_datasharing.requests.clear()
    fake_management.mode = "ok"
    fake_management.guides.clear()
    fake_management.requests.clear()
    if "sessionmaker" in request.fixturenames:
        sm: async_sessionmaker[AsyncSession] = request.getfixturevalue("sessionmaker")
        async with session_scope(sm) as session:
            await session.execute(text(f"TRUNCATE {ALL_TABLES} CASCADE"))
        # The index is the catalogue table's projection in memory: emptied with the table, or a
        # test's search would still find the items an earlier test published.
        if search_service.index is not None:
            search_service.index = search_service.new_index()


@pytest.fixture(scope="session")
def demo_hash() -> str:
    return hash_password_sync("demo123")


@pytest.fixture
async def accounts(sessionmaker: async_sessionmaker[AsyncSession], demo_hash: str) -> Accounts:
    def acc(
        username: str, kind: str, name: str, id_number: str | None, roles: list[str], **kw: Any
    ) -> Account:
        id_type = {"natural_person": "111", "legal_person": "001"}.get(kind)
        return Account(
            id=uuid.uuid4(),
            username=username,
            password_hash=demo_hash,
            kind=kind,
            name=name,
            id_type=id_type,
            id_number=id_number,
            roles=roles,
            active=True,
            **kw,
        )

    made = Accounts(
        zhangsan=acc(
            "zhangsan", "natural_person", "张三", "530428199001011231", ["applicant"], phone="13800000001"
        ),
        lisi=acc("lisi", "natural_person", "李四", "53042819850505234X", ["applicant"]),
        yjcj=acc("yjcj", "legal_person", "元江县城市建设投资有限公司", "91530428MA6K000015", ["applicant"]),
        chuangkou=acc("chuangkou", "staff", "窗口受理员", None, ["acceptor"], org_code=ORG.code),
    )
    async with session_scope(sessionmaker) as session:
        session.add_all([made.zhangsan, made.lisi, made.yjcj, made.chuangkou])
    return made


@pytest.fixture
def auth(issuer: TokenIssuer) -> Callable[[Account], dict[str, str]]:
    def headers(account: Account) -> dict[str, str]:
        return {"Authorization": f"Bearer {issuer.issue(account_service.principal(account))}"}

    return headers


@pytest.fixture
async def item(sessionmaker: async_sessionmaker[AsyncSession]) -> ItemPublished:
    data = item_published()
    async with session_scope(sessionmaker) as session:
        await on_item_published(session, envelope(data), data)
    return data
