"""Licence registration from case results, and the LicenceRegistered event it emits."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.contracts.business import CaseDecided
from yiwang_common.contracts.datasharing import LicenceRegistered
from yiwang_common.contracts.management import CaseCompleted
from yiwang_common.db import utcnow
from yiwang_common.events import EventEnvelope, enqueue, make_event
from yiwang_datasharing.db import messaging
from yiwang_datasharing.licence.service import licence_service


def licence_registered_event(data: LicenceRegistered, *, source: str) -> EventEnvelope:
    """证照已入库 event about one licence, correlated with its case."""
    case_no = data.licence.case_no
    return make_event(data, source=source, subject=case_no, correlation_id=case_no)


class LicenceHandlers:
    """Event handlers of the licence domain; they need this service's event source."""

    def __init__(self, source: str) -> None:
        self.source = source

    async def on_result(
        self, session: AsyncSession, envelope: EventEnvelope, data: CaseDecided | CaseCompleted
    ) -> None:
        """CaseDecided or CaseCompleted: register the licence, announcing it only the first time."""
        if data.licence is None:
            return
        now = utcnow()
        if await licence_service.register(session, licence=data.licence, registered_at=now):
            event = licence_registered_event(
                LicenceRegistered(licence=data.licence, registered_at=now), source=self.source
            )
            await enqueue(session, messaging.outbox, event)
