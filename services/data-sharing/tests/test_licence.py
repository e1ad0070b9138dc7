"""E-licence library: registration on the result, one LicenceRegistered, and who may read it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.db import session_scope, utcnow
from yiwang_common.testing import outbox_events
from yiwang_datasharing.db import messaging
from yiwang_datasharing.licence.models import ELicenceRecord
from yiwang_datasharing.licence.service import LicenceSigner, RegistrationMemo, licence_service

SUBJECT = "yiwang.datasharing.licence.registered.v1"


async def outbox_for(sm: async_sessionmaker[AsyncSession], case_no: str) -> list[dict[str, Any]]:
    rows = await outbox_events(sm, messaging.outbox, SUBJECT)
    return [e for _, e in rows if e["subject"] == case_no]


class TestRegisterLicence:
    async def test_decision_with_licence_registers_it_and_emits_event(
        self, deliver: Any, story: Any, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        await deliver(story.decided(), 3)
        async with sessionmaker() as session:
            row = await session.get(ELicenceRecord, story.licence.identifier)
        assert row is not None and row.status == "valid" and row.issuer_code == "11530428015176456L"
        events = await outbox_for(sessionmaker, story.case_no)
        assert len(events) == 1
        assert events[0]["source"] == "urn:yiwang:530428:datasharing"
        assert events[0]["correlationid"] == story.case_no
        assert events[0]["data"]["licence"]["identifier"] == story.licence.identifier

    async def test_completion_with_the_same_licence_emits_no_second_event(
        self, deliver: Any, story: Any, sessionmaker: async_sessionmaker[AsyncSession], rows: Any
    ) -> None:
        await deliver(story.decided(), 3)
        await deliver(story.completed(), 4)
        assert len(await outbox_for(sessionmaker, story.case_no)) == 1
        assert await rows.count(ELicenceRecord, ELicenceRecord.case_no == story.case_no) == 1

    async def test_a_registration_rolled_back_is_not_remembered(
        self,
        settings: Any,
        story: Any,
        sessionmaker: async_sessionmaker[AsyncSession],
        rows: Any,
    ) -> None:
        signer = LicenceSigner.from_settings(settings)
        memo = RegistrationMemo()
        async with sessionmaker() as session, session.begin():
            await licence_service.register(
                session, signer, licence=story.licence, registered_at=utcnow(), source="t", memo=memo
            )
            await session.rollback()
        assert story.licence.identifier not in memo.registered
        async with session_scope(sessionmaker) as session:
            signed = await licence_service.register(
                session, signer, licence=story.licence, registered_at=utcnow(), source="t", memo=memo
            )
        assert signed is not None and story.licence.identifier in memo.registered
        assert story.licence.type_code in memo.types
        assert await rows.count(ELicenceRecord, ELicenceRecord.case_no == story.case_no) == 1
        # Known now: a later event for it does nothing, as the idempotent insert would.
        async with session_scope(sessionmaker) as session:
            again = await licence_service.register(
                session, signer, licence=story.licence, registered_at=utcnow(), source="t", memo=memo
            )
        assert again is None

    async def test_completion_alone_registers_the_licence(
        self, deliver: Any, story: Any, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> None:
        await deliver(story.completed(), 4)
        assert len(await outbox_for(sessionmaker, story.case_no)) == 1

    async def test_refusal_without_licence_registers_nothing(
        self, deliver: Any, story: Any, sessionmaker: async_sessionmaker[AsyncSession], rows: Any
    ) -> None:
        await deliver(story.decided(with_licence=False), 3)
        assert await rows.count(ELicenceRecord, ELicenceRecord.case_no == story.case_no) == 0
        assert await outbox_for(sessionmaker, story.case_no) == []

    async def test_distinct_licences_in_one_unit_of_work_are_each_registered_and_announced_once(
        self,
        deliver: Any,
        story: Any,
        make_envelope: Any,
        sessionmaker: async_sessionmaker[AsyncSession],
        rows: Any,
    ) -> None:
        # As the consumer runner does: a whole fetched batch (decisions and completions of several
        # cases, each with its own licence) handled in ONE transaction.
        stories = [story, *(type(story)() for _ in range(4))]
        async with session_scope(sessionmaker) as session:
            for s in stories:
                for data, minute in ((s.decided(), 3), (s.completed(), 4)):
                    await deliver.routes[type(data)](session, make_envelope(data, minute), data)
        for s in stories:
            events = await outbox_for(sessionmaker, s.case_no)
            assert [e["data"]["licence"]["identifier"] for e in events] == [s.licence.identifier]
            assert await rows.count(ELicenceRecord, ELicenceRecord.identifier == s.licence.identifier) == 1


class TestGetLicence:
    @pytest.fixture
    async def issued(self, deliver: Any, story: Any) -> Any:
        await deliver(story.submitted(), 0)
        await deliver(story.decided(), 3)
        return story

    async def test_holder_reads_licence(self, client: httpx.AsyncClient, auth: Any, issued: Any) -> None:
        response = await client.get(
            f"/api/v1/licences/{issued.licence.identifier}", headers=auth(issued.applicant_id)
        )
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "valid"
        assert body["issuer"] == {"name": "元江县住房和城乡建设局", "code": "11530428015176456L"}
        assert body["case_no"] == issued.case_no and body["issued_on"] == "2026-11-30"

    async def test_staff_reads_licence(self, client: httpx.AsyncClient, auth: Any, issued: Any) -> None:
        response = await client.get(
            f"/api/v1/licences/{issued.licence.identifier}", headers=auth("s-1", staff=True)
        )
        assert response.status_code == 200

    async def test_another_user_gets_404(self, client: httpx.AsyncClient, auth: Any, issued: Any) -> None:
        response = await client.get(f"/api/v1/licences/{issued.licence.identifier}", headers=auth("lisi"))
        assert response.status_code == 404
        assert response.json()["code"] == "licence_not_found"

    async def test_licence_whose_case_is_unknown_is_for_the_units_staff_only(
        self, client: httpx.AsyncClient, auth: Any, deliver: Any, story: Any
    ) -> None:
        await deliver(story.decided(), 3)
        response = await client.get(
            f"/api/v1/licences/{story.licence.identifier}", headers=auth(story.applicant_id)
        )
        assert response.status_code == 404
        staff = await client.get(
            f"/api/v1/licences/{story.licence.identifier}", headers=auth("s-1", staff=True)
        )
        assert staff.status_code == 200

    async def test_unknown_identifier_is_404(self, client: httpx.AsyncClient, auth: Any) -> None:
        response = await client.get(
            "/api/v1/licences/1.2.156.3005.2.X.Y.Z.001.0", headers=auth("s-1", staff=True)
        )
        assert response.status_code == 404

    async def test_malformed_identifier_is_422(self, client: httpx.AsyncClient, auth: Any) -> None:
        response = await client.get("/api/v1/licences/bad%20id;drop", headers=auth("s-1", staff=True))
        assert response.status_code == 422

    async def test_without_token_is_401(self, client: httpx.AsyncClient, issued: Any) -> None:
        response = await client.get(f"/api/v1/licences/{issued.licence.identifier}")
        assert response.status_code == 401
