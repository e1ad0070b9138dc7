"""Every query of deliveries (送达) and their tracking events."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from yiwang_common.db.repository import RepositoryBase
from yiwang_management.delivery.models import CaseDelivery, DeliveryEvent


class DeliveryRepository(RepositoryBase[CaseDelivery]):
    """送达 of cases."""

    model = CaseDelivery

    async def get(self, case_no: str, *, for_update: bool = False) -> CaseDelivery | None:
        """A case's delivery, locked when it is about to change."""
        statement = select(CaseDelivery).where(CaseDelivery.case_no == case_no)
        if for_update:
            statement = statement.with_for_update()
        return await self.get_one_or_none(statement)

    async def add(self, delivery: CaseDelivery) -> CaseDelivery:
        """A new delivery."""
        self.session.add(delivery)
        await self.session.flush()
        return delivery

    async def add_event(self, event: DeliveryEvent) -> None:
        """A tracking event."""
        self.session.add(event)
        await self.session.flush()

    async def events(self, case_no: str) -> Sequence[DeliveryEvent]:
        """A delivery's events, oldest first."""
        statement = select(DeliveryEvent).where(DeliveryEvent.case_no == case_no).order_by(DeliveryEvent.id)
        return list(await self.session.scalars(statement))
