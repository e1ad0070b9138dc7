"""Where the gateway's SQL lives, and what its hot paths cost in round trips and ORM objects."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
from gateway_cases import CASE_NO, accepted, registered, submit_application
from gateway_support import Accounts, envelope
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import yiwang_gateway
from yiwang_common.contracts.management import CaseAccepted, CaseRegistered, ItemPublished
from yiwang_common.db import session_scope
from yiwang_common.testing.architecture import StatementCounter, find_queries_outside_repositories
from yiwang_gateway.application.models import Application
from yiwang_gateway.progress import events as handlers

PACKAGE = Path(yiwang_gateway.__file__).parent
OTHER_CASE_NO = "530428202611230000025"


def test_queries_live_only_in_repositories() -> None:
    assert find_queries_outside_repositories(PACKAGE) == []


async def _project(
    sessionmaker: async_sessionmaker[AsyncSession], data: CaseRegistered | CaseAccepted
) -> list[str]:
    handler = handlers.on_case_registered if isinstance(data, CaseRegistered) else handlers.on_case_accepted
    tracked: list[object] = []

    def track(_session: Any, instance: object) -> None:
        if isinstance(instance, Application):
            tracked.append(instance)

    with StatementCounter(sessionmaker) as sent:
        async with session_scope(sessionmaker) as session:
            # The identity map holds clean objects weakly, so watch them arrive instead of looking after.
            for name in ("loaded_as_persistent", "transient_to_pending"):
                event.listen(session.sync_session, name, track)
            await handler(session, envelope(data, subject=CASE_NO), data)  # type: ignore[arg-type]
    # Core only: no Application a later handler's UPDATE of the same row could leave stale.
    assert tracked == []
    return sent.sent


class TestHotPaths:
    async def test_submission_keeps_its_round_trips(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        headers = auth(accounts.zhangsan)
        await submit_application(client, headers)  # the first one may warm caches
        with StatementCounter(sessionmaker) as sent:
            await submit_application(client, headers)
        # item, applicant, application, timeline entry, outbox row.
        assert len(sent.sent) == 5, sent.sent

    async def test_projection_is_core_only_with_fixed_round_trips(
        self, client: httpx.AsyncClient, accounts: Accounts, auth: Any, item: ItemPublished, sessionmaker: Any
    ) -> None:
        z = accounts.zhangsan
        app_id = await submit_application(client, auth(z))
        # In order: one UPDATE, and the timeline entry at commit.
        assert len(await _project(sessionmaker, registered(app_id, z))) == 2
        assert len(await _project(sessionmaker, accepted(app_id, z))) == 2
        # Late (registered after accepted): UPDATE that moves nothing, lock, touch, timeline.
        late = await _project(sessionmaker, registered(app_id, z))
        assert len(late) == 4, late
        # A case the portal never saw: UPDATE of no row, lock of no row, INSERT, timeline.
        window = registered(uuid.uuid4(), accounts.lisi).model_copy(update={"case_no": OTHER_CASE_NO})
        assert len(await _project(sessionmaker, window)) == 4
        async with session_scope(sessionmaker) as session:
            app = await session.get(Application, app_id)
            assert app is not None
            assert (app.status, app.case_no) == ("accepted", CASE_NO)
