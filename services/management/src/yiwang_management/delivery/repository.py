"""Every query of deliveries (送达) and their tracking events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Date, cast, func, select, text
from sqlalchemy.exc import IntegrityError

from yiwang_common.access import ReadScope
from yiwang_common.db.repository import RepositoryBase
from yiwang_management.case.models import Case
from yiwang_management.delivery.models import DELIVERY_STEP, DISPATCHED, READY, CaseDelivery, DeliveryEvent
from yiwang_management.shared import CHINA_TZ
from yiwang_management.supervision.models import CaseStepClock

# 作出决定 starts the delivery in one round trip (completion is a hot path): the 送达 step clock
# (its warning date picked by the item's rule out of candidates computed for each threshold), the
# delivery (window pick-up unless the applicant chose), and the tracking event. A replayed
# decision inserts no clock, so nothing after it happens twice.
_START = text("""
WITH rule AS (
    SELECT step_warn_days FROM supervision_rule WHERE item_code = :item_code
), clock AS (
    INSERT INTO case_step_clock (case_no, step_key, step_name, item_code, org_code, region_code, started_at,
                                 due_date, warn_date, warned_level)
    SELECT CAST(:case_no AS varchar), CAST(:step_key AS varchar), CAST(:step_name AS varchar),
           CAST(:item_code AS varchar), CAST(:org_code AS varchar), CAST(:region_code AS varchar),
           CAST(:decided_at AS timestamptz), CAST(:due_date AS date),
           GREATEST(CAST(:decided_on AS date),
                    (CAST(:warn_dates AS date[]))[LEAST(COALESCE((SELECT step_warn_days FROM rule),
                                                                 CAST(:default_warn_days AS integer)),
                                                        CAST(:most AS integer)) + 1]),
           0
    ON CONFLICT (case_no, step_key, started_at) DO NOTHING
    RETURNING case_no
), delivery AS (
    INSERT INTO case_delivery (case_no, method, status, chosen_at, chosen_by, decided_on, due_date)
    SELECT case_no, 'window', 'ready', CAST(:decided_at AS timestamptz), CAST(:default_by AS varchar),
           CAST(:decided_on AS date), CAST(:due_date AS date) FROM clock
    ON CONFLICT (case_no) DO UPDATE SET decided_on = EXCLUDED.decided_on, due_date = EXCLUDED.due_date,
                                        status = 'ready'
        WHERE case_delivery.decided_on IS NULL
    RETURNING case_no
)
INSERT INTO delivery_event (case_no, kind, description, at, actor)
SELECT case_no, 'ready', CAST(:description AS text), CAST(:decided_at AS timestamptz), '系统' FROM delivery
""")


class DeliveryRepository(RepositoryBase[CaseDelivery]):
    """送达 of cases."""

    model = CaseDelivery

    async def get(self, case_no: str, *, for_update: bool = False) -> CaseDelivery | None:
        """A case's delivery, locked when it is about to change."""
        statement = select(CaseDelivery).where(CaseDelivery.case_no == case_no)
        if for_update:
            statement = statement.with_for_update()
        return await self.get_one_or_none(statement)

    async def dispatch(self, delivery: CaseDelivery, values: dict[str, Any]) -> bool:
        """Record the dispatch now; False (and nothing written) when its tracking number is
        another delivery's already (unique), also when two dispatches race for it."""
        try:
            async with self.session.begin_nested():
                await self.update(delivery, update_dict=values, flush=True)
        except IntegrityError:
            return False
        return True

    async def start(self, values: dict[str, Any]) -> None:
        """The decision is made: open the 送达 clock, the delivery and its first event at once."""
        await self.session.execute(_START, values)

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

    async def board(self, scope: ReadScope, *, status: str | None, limit: int) -> Sequence[Any]:
        """送达工作台: the unit's decided cases whose result has not reached the applicant yet,
        soonest due first, each with its open 送达 clock's warning date (None when it has none)."""
        if scope.region_prefix is None:
            return []
        clock = (
            select(CaseStepClock.warn_date)
            .where(
                CaseStepClock.case_no == CaseDelivery.case_no,
                CaseStepClock.step_key == DELIVERY_STEP,
                CaseStepClock.ended_at.is_(None),
            )
            .order_by(CaseStepClock.started_at.desc())
            .limit(1)
            .scalar_subquery()
        )
        statement = (
            select(
                CaseDelivery,
                Case.item_name.label("item_name"),
                Case.applicant.label("applicant"),
                Case.outcome.label("outcome"),
                clock.label("warn_date"),
            )
            .join(Case, Case.case_no == CaseDelivery.case_no)
            .where(
                CaseDelivery.status.in_([status] if status else [READY, DISPATCHED]),
                CaseDelivery.case_no.startswith(scope.region_prefix, autoescape=True),
            )
            .order_by(CaseDelivery.due_date.asc().nulls_last(), CaseDelivery.case_no)
            .limit(limit)
        )
        if scope.org_code is not None:
            statement = statement.where(Case.org_code == scope.org_code)
        rows: Sequence[Any] = (await self.session.execute(statement)).all()
        return rows

    async def on_time_by_org(self, *, first: date, last: date, org_code: str | None) -> Sequence[Any]:
        """送达及时率: results delivered from ``first`` to ``last`` (Beijing dates) per department."""
        day = cast(func.timezone(CHINA_TZ.tzname(None), CaseDelivery.delivered_at), Date)
        statement = (
            select(
                Case.org_code.label("key"),
                func.count().label("delivered"),
                func.count().filter(CaseDelivery.on_time.is_(True)).label("on_time"),
            )
            .join(Case, Case.case_no == CaseDelivery.case_no)
            .where(CaseDelivery.delivered_at.is_not(None), day >= first, day <= last)
            .group_by(Case.org_code)
            .order_by(Case.org_code)
        )
        if org_code is not None:
            statement = statement.where(Case.org_code == org_code)
        rows: Sequence[Any] = (await self.session.execute(statement)).all()
        return rows
