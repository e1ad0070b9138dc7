"""Incoming events of the licence domain: case results register and sign their licences."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.contracts.business import CaseDecided
from yiwang_common.contracts.management import CaseCompleted
from yiwang_common.db import utcnow
from yiwang_common.events import EventEnvelope
from yiwang_datasharing.licence.service import LicenceSigner, RegistrationMemo, licence_service


class LicenceHandlers:
    """Event handlers of the licence domain; they need this service's event source and signer."""

    def __init__(self, source: str, signer: LicenceSigner) -> None:
        self.source = source
        self.signer = signer
        self.memo = RegistrationMemo()

    async def on_result(
        self, session: AsyncSession, envelope: EventEnvelope, data: CaseDecided | CaseCompleted
    ) -> None:
        """CaseDecided or CaseCompleted: register and sign the licence, announcing it only the first time."""
        if data.licence is None:
            return
        now = utcnow()
        await licence_service.register(
            session, self.signer, licence=data.licence, registered_at=now, source=self.source, memo=self.memo
        )
