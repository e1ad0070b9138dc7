"""Incoming events of the case domain: gateway applications and supplements, business steps and decisions."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.calendar import WorkingDayCalendar
from yiwang_common.contracts.business import CaseDecided, CaseStepCompleted
from yiwang_common.contracts.gateway import ApplicationSubmitted, ApplicationSupplemented
from yiwang_common.events import EventEnvelope, Subscription
from yiwang_management.case import service as case_service
from yiwang_management.config import DeliverySettings, SupervisionSettings
from yiwang_management.shared import event_source


class CaseEventHandlers:
    """Consumers of gateway and business events; each runs inside the consumer's transaction."""

    def __init__(
        self,
        *,
        calendar: WorkingDayCalendar,
        region_code: str,
        supervision: SupervisionSettings | None = None,
        delivery: DeliverySettings | None = None,
        unified: bool = False,
    ) -> None:
        self.calendar = calendar
        self.supervision = supervision
        self.delivery = delivery
        self.region_code = region_code
        # 统建: one platform registers the cases of its cities and counties (ADR 0114).
        self.unified = unified
        self.source = event_source(region_code)

    async def on_application_submitted(
        self, session: AsyncSession, _envelope: EventEnvelope, data: ApplicationSubmitted
    ) -> None:
        """申请已提交 → register the case."""
        await case_service.register_case(
            session, data, region_code=self.region_code, source=self.source, unified=self.unified
        )

    async def on_application_supplemented(
        self, session: AsyncSession, _envelope: EventEnvelope, data: ApplicationSupplemented
    ) -> None:
        """材料已补正 → add the materials to the case."""
        await case_service.receive_supplement(
            session, data, calendar=self.calendar, supervision=self.supervision, source=self.source
        )

    async def on_step_completed(
        self, session: AsyncSession, _envelope: EventEnvelope, data: CaseStepCompleted
    ) -> None:
        """环节已办理 → record the step."""
        await case_service.record_business_step(
            session, data, calendar=self.calendar, supervision=self.supervision
        )

    async def on_case_decided(
        self, session: AsyncSession, _envelope: EventEnvelope, data: CaseDecided
    ) -> None:
        """已作出决定 → complete the case."""
        await case_service.complete_case(
            session,
            data,
            calendar=self.calendar,
            source=self.source,
            delivery=self.delivery,
            supervision=self.supervision,
        )

    def subscriptions(self) -> list[Subscription]:
        """One durable consumer per producer this service reads."""
        return [
            Subscription(
                durable="management__gateway",
                source="gateway",
                handlers={
                    ApplicationSubmitted: self.on_application_submitted,
                    ApplicationSupplemented: self.on_application_supplemented,
                },
            ),
            Subscription(
                durable="management__business",
                source="business",
                handlers={CaseStepCompleted: self.on_step_completed, CaseDecided: self.on_case_decided},
            ),
        ]
