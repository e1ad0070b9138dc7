"""Where management's SQL lives, and what its hot paths cost in round trips and ORM objects."""

from __future__ import annotations

from dataclasses import fields
from datetime import timedelta
from pathlib import Path

from management_factories import ACCEPTOR, GATEWAY_SOURCE, submitted
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import yiwang_management
from yiwang_common.calendar import WorkingDayCalendar
from yiwang_common.contracts.business import CaseDecided
from yiwang_common.contracts.common import DecisionDocument, Organisation, StepRecord
from yiwang_common.db import session_scope, utcnow
from yiwang_common.events import make_event
from yiwang_common.testing.architecture import StatementCounter, find_queries_outside_repositories
from yiwang_management.case import service as case_service
from yiwang_management.case.handlers import CaseEventHandlers
from yiwang_management.case.models import Case
from yiwang_management.case.repository import CaseRecord

PACKAGE = Path(yiwang_management.__file__).parent


def test_queries_live_only_in_repositories() -> None:
    assert find_queries_outside_repositories(PACKAGE) == []


def test_case_record_has_the_columns_of_the_case_table_in_order() -> None:
    # The hot paths build records from rows by column name and return them in place of ``Case``.
    assert [f.name for f in fields(CaseRecord)] == [c.name for c in Case.__table__.c]


def _engine(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    bind = sessionmaker.kw["bind"]
    assert isinstance(bind, AsyncEngine)
    return bind


def _no_tracked_case(session: AsyncSession) -> bool:
    return not any(isinstance(o, Case) for o in [*session.identity_map.values(), *session.new])


class TestHotPaths:
    """Registration, acceptance and completion: prebuilt Core statements, a fixed number of them."""

    async def test_register_accept_complete_keep_their_round_trips(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
        calendar: WorkingDayCalendar,
        item: str,
    ) -> None:
        engine = _engine(sessionmaker)
        first = submitted()
        async with session_scope(sessionmaker) as session:
            # The first application of an item reads the catalogue; the copy serves the next ones.
            await handlers.on_application_submitted(session, make_event(first, source=GATEWAY_SOURCE), first)
        data = submitted()
        with StatementCounter(engine) as register:
            async with session_scope(sessionmaker) as session:
                case = await case_service.register_case(session, data, region_code="530428", source="t")
                assert _no_tracked_case(session)
        assert isinstance(case, CaseRecord)
        # sequence-with-guards, case, apply step, outbox row.
        assert len(register.sent) == 4, register.sent

        with StatementCounter(engine) as accept:
            async with session_scope(sessionmaker) as session:
                accepted, steps = await case_service.accept_case_with_steps(
                    session,
                    case_no=case.case_no,
                    principal=ACCEPTOR,
                    opinion="予以受理",
                    calendar=calendar,
                    source="t",
                )
                assert _no_tracked_case(session)
        assert (accepted.status, [s.step_key for s in steps]) == ("accepted", ["apply", "accept"])
        # lock-with-steps (and the 受理前缴费 check, ADR 0126), update, accept step, the clock with
        # its first history line, outbox row.
        assert len(accept.sent) == 5, accept.sent

        org = Organisation(name=case.org_name, code=case.org_code)
        decided_at = utcnow()
        review = StepRecord(
            step_key="review",
            step_name="审查",
            action="pass",
            handler_id="staff-review",
            handler_name="审查人",
            opinion="同意",
            started_at=decided_at - timedelta(hours=1),
            ended_at=decided_at,
            org=org,
        )
        decision = CaseDecided(
            case_no=case.case_no,
            application_id=case.application_id,
            item_code=case.item_code,
            outcome="approved",
            decision=DecisionDocument(
                document_no="元住建许〔2026〕第000001号",
                title="准予行政许可决定书",
                body="准予核发建筑工程施工许可证。",
                decided_at=decided_at,
                decider_name="决定人",
                org=org,
            ),
            steps=[review],
        )
        with StatementCounter(engine) as complete:
            async with session_scope(sessionmaker) as session:
                completed = await case_service.complete_case(session, decision, calendar=calendar, source="t")
                assert _no_tracked_case(session)
        assert completed is not None
        assert [s.step_key for s in completed.steps] == ["apply", "accept", "review"]
        # lock-with-steps, new steps, update, stop the clocks, the 送达 clock with its delivery and
        # first event, outbox row.
        assert len(complete.sent) == 6, complete.sent
