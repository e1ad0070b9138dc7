"""容缺受理 under supervision (ADR 0119): the date to supply by is a step clock the sweep warns on,
the window sees the warnings, the material's arrival stops the clock, and a case whose material
never comes is returned (容缺逾期退回, 不予受理 with its notice)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from acceptance_support import pdf_text, publish_variant
from management_factories import (
    ACCEPTOR,
    ALL_MATERIALS,
    OTHER_ACCEPTOR,
    auth,
    load_case,
    material,
    outbox,
    register,
    submitted,
)
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.calendar import WorkingDayCalendar
from yiwang_common.contracts.gateway import ApplicationSupplemented
from yiwang_common.contracts.lifecycle import can_move
from yiwang_common.db import session_scope, utcnow
from yiwang_common.events import make_event
from yiwang_management.case.handlers import CaseEventHandlers
from yiwang_management.case.models import Case
from yiwang_management.config import SupervisionSettings
from yiwang_management.shared import local_date
from yiwang_management.supervision.deadlines import DEFERRED_STEP_KEY
from yiwang_management.supervision.models import CaseStepClock, SupervisionWarning
from yiwang_management.supervision.sweep import sweep

REJECTED = "yiwang.management.case.rejected.v1"
ACCEPTED = "yiwang.management.case.accepted.v1"
WITHOUT_M08 = [c for c in ALL_MATERIALS if c != "M08"]


@pytest.fixture
async def owed_case(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    handlers: CaseEventHandlers,
    item: str,
) -> tuple[str, date]:
    """A case accepted with M08 owed, to be supplied within 10 days."""
    await publish_variant(sessionmaker, guide={"容缺受理": "是"}, deferrable=("M08",))
    case_no = await register(sessionmaker, handlers, submitted(WITHOUT_M08))
    supply_by = local_date(utcnow()) + timedelta(days=10)
    r = await client.post(
        f"/cases/{case_no}/accept",
        json={
            "deferred_materials": [{"code": "M08", "reason": "申请人承诺后补"}],
            "supply_by": supply_by.isoformat(),
        },
        headers=auth(ACCEPTOR),
    )
    assert r.status_code == 200, r.text
    return case_no, supply_by


async def _clock(sessionmaker: async_sessionmaker[AsyncSession], case_no: str) -> CaseStepClock:
    async with session_scope(sessionmaker) as session:
        statement = select(CaseStepClock).where(
            CaseStepClock.case_no == case_no, CaseStepClock.step_key == DEFERRED_STEP_KEY
        )
        return (await session.scalars(statement)).one()


async def _warnings(sessionmaker: async_sessionmaker[AsyncSession], case_no: str) -> list[tuple[str, str]]:
    async with session_scope(sessionmaker) as session:
        statement = select(SupervisionWarning).where(SupervisionWarning.case_no == case_no)
        return sorted((w.step_key, w.level) for w in await session.scalars(statement))


async def _sweep(sessionmaker: async_sessionmaker[AsyncSession], today: date, tick: int) -> dict[str, int]:
    result = await sweep(
        sessionmaker,
        tick=tick,
        calendar=WorkingDayCalendar(),
        defaults=SupervisionSettings(),
        source="urn:yiwang:530428:management",
        worker="test",
        today=today,
    )
    assert result is not None
    return result.counts


async def _pass_the_date(sessionmaker: async_sessionmaker[AsyncSession], case_no: str, days: int) -> None:
    """Time passes: the case's date to supply by is ``days`` behind today."""
    async with session_scope(sessionmaker) as session:
        await session.execute(
            update(Case)
            .where(Case.case_no == case_no)
            .values(pending_due_date=local_date(utcnow()) - timedelta(days=days))
        )


def test_the_lifecycle_allows_the_return_of_an_accepted_case() -> None:
    assert can_move("accepted", "not_accepted") and not can_move("not_accepted", "accepted")


class TestDeferredDateSupervised:
    async def test_yellow_before_and_red_once_the_date_has_passed(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        owed_case: tuple[str, date],
    ) -> None:
        case_no, supply_by = owed_case
        clock = await _clock(sessionmaker, case_no)
        assert clock.due_date == supply_by and clock.step_name == "容缺材料补齐" and clock.ended_at is None
        # The default step threshold: one working day before the date.
        assert clock.warn_date == WorkingDayCalendar().subtract_working_days(supply_by, 1)
        assert (await _sweep(sessionmaker, clock.warn_date - timedelta(days=1), 1))["step_yellow"] == 0
        assert (await _sweep(sessionmaker, clock.warn_date, 2))["step_yellow"] == 1
        assert (await _sweep(sessionmaker, supply_by, 3))["step_red"] == 0
        assert (await _sweep(sessionmaker, supply_by + timedelta(days=1), 4))["step_red"] == 1
        assert (await _sweep(sessionmaker, supply_by + timedelta(days=2), 5))["step_red"] == 0
        assert await _warnings(sessionmaker, case_no) == [
            (DEFERRED_STEP_KEY, "red"),
            (DEFERRED_STEP_KEY, "yellow"),
        ]
        # The window (the unit's 受理人) sees them in its inbox; another unit does not.
        r = await client.get("/supervision/warnings", params={"level": "red"}, headers=auth(ACCEPTOR))
        assert r.status_code == 200, r.text
        seen = [(w["case_no"], w["step_key"], w["step_name"]) for w in r.json()["items"]]
        assert seen == [(case_no, DEFERRED_STEP_KEY, "容缺材料补齐")]
        r = await client.get("/supervision/warnings", headers=auth(OTHER_ACCEPTOR))
        assert r.json()["items"] == []

    async def test_the_material_arriving_stops_the_clock(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        owed_case: tuple[str, date],
    ) -> None:
        case_no, supply_by = owed_case
        r = await client.post(
            f"/cases/{case_no}/deferred-materials",
            json={"materials": [material("M08", "later").model_dump(mode="json")]},
            headers=auth(ACCEPTOR),
        )
        assert r.status_code == 200, r.text
        assert (await _clock(sessionmaker, case_no)).ended_at is not None
        await _sweep(sessionmaker, supply_by + timedelta(days=3), 1)
        # The case's own clock runs now (and may warn); the date to supply by never does.
        assert [w for w in await _warnings(sessionmaker, case_no) if w[0] == DEFERRED_STEP_KEY] == []


class TestDeferredLapse:
    async def test_a_case_whose_material_never_comes_is_returned(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        owed_case: tuple[str, date],
    ) -> None:
        case_no, _ = owed_case
        lapse = f"/cases/{case_no}/deferred-materials/lapse"
        r = await client.post(lapse, json={}, headers=auth(ACCEPTOR))
        assert r.status_code == 409 and r.json()["code"] == "deferral_not_lapsed"
        assert r.headers["content-type"] == "application/problem+json"
        assert (await load_case(sessionmaker, case_no)).status == "accepted"

        await _pass_the_date(sessionmaker, case_no, days=1)
        r = await client.post(lapse, json={"reason": "申请人告知无法取得该证明"}, headers=auth(ACCEPTOR))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == "not_accepted" and body["case_kind_name"] == "退回件"
        assert body["steps"][-1]["step_key"] == "deferred_lapse"
        assert "rejection" in body["notices"]
        assert (await _clock(sessionmaker, case_no)).ended_at is not None
        rejected = await outbox(sessionmaker, REJECTED)
        assert len(rejected) == 1 and "容缺材料" in rejected[0]["data"]["reason"]
        pdf = (await client.get(f"/cases/{case_no}/notices/rejection.pdf", headers=auth(ACCEPTOR))).content
        assert "建设资金已经落实的证明" in pdf_text(pdf) and "申请人告知无法取得该证明" in pdf_text(pdf)
        # Once: the case owes nothing now.
        r = await client.post(lapse, json={}, headers=auth(ACCEPTOR))
        assert r.status_code == 409 and r.json()["code"] == "nothing_pending"

    @pytest.mark.parametrize(
        ("body", "status"),
        [({"reason": "x" * 501}, 422), ({"why": "x"}, 422), ([], 422)],
    )
    async def test_bad_input_is_a_problem_and_changes_nothing(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        owed_case: tuple[str, date],
        body: Any,
        status: int,
    ) -> None:
        case_no, _ = owed_case
        await _pass_the_date(sessionmaker, case_no, days=1)
        r = await client.post(f"/cases/{case_no}/deferred-materials/lapse", json=body, headers=auth(ACCEPTOR))
        assert r.status_code == status and r.headers["content-type"] == "application/problem+json"
        assert (await load_case(sessionmaker, case_no)).status == "accepted"
        assert await outbox(sessionmaker, REJECTED) == []

    async def test_a_plain_case_or_another_unit_cannot(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        owed_case: tuple[str, date],
        case_no: str,
    ) -> None:
        owed, _ = owed_case
        await _pass_the_date(sessionmaker, owed, days=1)
        r = await client.post(f"/cases/{owed}/deferred-materials/lapse", headers=auth(OTHER_ACCEPTOR))
        assert r.status_code == 404
        await client.post(f"/cases/{case_no}/accept", json={}, headers=auth(ACCEPTOR))
        r = await client.post(f"/cases/{case_no}/deferred-materials/lapse", headers=auth(ACCEPTOR))
        assert r.status_code == 409 and r.json()["code"] == "nothing_pending"
        assert (await load_case(sessionmaker, case_no)).status == "accepted"


class TestDeferredSupplyThroughThePortal:
    async def _hand_in(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
        case_no: str,
        code: str,
    ) -> None:
        case = await load_case(sessionmaker, case_no)
        data = ApplicationSupplemented(
            application_id=case.application_id,
            case_no=case_no,
            applicant_id=case.applicant_id,
            materials=[material(code, "online")],
            supplemented_at=utcnow(),
        )
        async with session_scope(sessionmaker) as session:
            envelope = make_event(data, source="urn:yiwang:530428:gateway", subject=case_no)
            await handlers.on_application_supplemented(session, envelope, data)

    async def test_the_owed_material_from_the_portal_is_recorded_like_the_window(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
        owed_case: tuple[str, date],
    ) -> None:
        case_no, _ = owed_case
        await self._hand_in(sessionmaker, handlers, case_no, "M08")
        case = await load_case(sessionmaker, case_no)
        assert (case.status, case.pending_materials, case.clock_start) == (
            "accepted",
            [],
            local_date(utcnow()),
        )
        assert case.pending_due_date is None and case.due_date is not None
        assert [m["material_code"] for m in case.materials if m["material_code"] == "M08"] == ["M08"]
        assert len(await outbox(sessionmaker, ACCEPTED)) == 1
        assert (await _clock(sessionmaker, case_no)).ended_at is not None

    async def test_a_material_not_owed_changes_nothing_but_the_record(
        self,
        client: httpx.AsyncClient,
        sessionmaker: async_sessionmaker[AsyncSession],
        handlers: CaseEventHandlers,
        owed_case: tuple[str, date],
    ) -> None:
        case_no, _ = owed_case
        await self._hand_in(sessionmaker, handlers, case_no, "M01")
        case = await load_case(sessionmaker, case_no)
        assert [m["code"] for m in case.pending_materials] == ["M08"] and case.clock_start is None
        assert await outbox(sessionmaker, ACCEPTED) == []
        steps = (await client.get(f"/cases/{case_no}", headers=auth(ACCEPTOR))).json()["steps"]
        assert steps[-1]["step_key"] == "deferred_supply_refused"
