"""Every query of fees, payment orders, notifications, reconciliation and the sandbox's books."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from yiwang_common.db.repository import RepositoryBase
from yiwang_management.payment.models import (
    PAID,
    RECEIPT_SEQUENCE,
    ItemFee,
    ItemPaymentRule,
    PaymentNotification,
    PaymentOrder,
    Reconciliation,
    ReconciliationLine,
    SandboxTransaction,
)


def unpaid_before(item_code: Any, case_no: Any, timing: Any) -> Any:
    """SQL: does the item want its fee paid before ``timing`` while the case's order is unpaid?

    The arguments are SQL expressions (parameters, or a case's columns where a case is read).
    """
    paid = (
        select(PaymentOrder.case_no)
        .where(PaymentOrder.case_no == case_no, PaymentOrder.status == PAID)
        .correlate_except(PaymentOrder)
    )
    return (
        select(ItemPaymentRule.item_code)
        .where(ItemPaymentRule.item_code == item_code, ItemPaymentRule.timing == timing, ~paid.exists())
        .correlate_except(ItemPaymentRule)
        .exists()
    )


# Built once: the rule and the order in one statement.
_UNPAID_BEFORE = select(unpaid_before(bindparam("item_code"), bindparam("case_no"), bindparam("timing")))


class FeeRepository(RepositoryBase[ItemFee]):
    """收费项目 and 缴费规则 of items."""

    model = ItemFee

    async def of_item(self, item_code: str) -> Sequence[ItemFee]:
        """An item's fees in their order."""
        statement = select(ItemFee).where(ItemFee.item_code == item_code).order_by(ItemFee.position)
        return await self.get_all(statement)

    async def rule(self, item_code: str) -> ItemPaymentRule | None:
        """An item's 缴费规则 (None: the item charges nothing)."""
        return await self.session.get(ItemPaymentRule, item_code)

    async def unpaid_before(self, item_code: str, case_no: str, timing: str) -> bool:
        """Does the item want its fee paid before ``timing`` while the case's order is unpaid?

        One round trip (acceptance is a hot path): the rule and the order in one statement.
        """
        params = {"item_code": item_code, "timing": timing, "case_no": case_no}
        return bool(await self.session.scalar(_UNPAID_BEFORE, params))

    async def replace(self, item_code: str, fees: Sequence[ItemFee], rule: ItemPaymentRule | None) -> None:
        """Replace an item's fee schedule and rule (an empty schedule removes the rule)."""
        await self.session.execute(delete(ItemFee).where(ItemFee.item_code == item_code))
        await self.session.execute(delete(ItemPaymentRule).where(ItemPaymentRule.item_code == item_code))
        self.session.add_all(list(fees))
        if rule is not None:
            self.session.add(rule)
        await self.session.flush()


class OrderRepository(RepositoryBase[PaymentOrder]):
    """缴费订单 and the notifications that paid them."""

    model = PaymentOrder

    async def of_case(self, case_no: str, *, for_update: bool = False) -> PaymentOrder | None:
        """A case's order."""
        statement = select(PaymentOrder).where(PaymentOrder.case_no == case_no)
        if for_update:
            statement = statement.with_for_update()
        return await self.get_one_or_none(statement)

    async def get(self, order_no: str, *, for_update: bool = False) -> PaymentOrder | None:
        """One order."""
        statement = select(PaymentOrder).where(PaymentOrder.order_no == order_no)
        if for_update:
            statement = statement.with_for_update()
        return await self.get_one_or_none(statement)

    async def add(self, order: PaymentOrder) -> tuple[PaymentOrder, bool]:
        """A new order, or the case's existing one (a concurrent request made it); True when this made it."""
        inserted = await self.insert_unless_exists(
            {c.name: getattr(order, c.key) for c in cast(Table, PaymentOrder.__table__).columns},
            conflict=["case_no"],
        )
        found = await self.of_case(order.case_no)
        assert found is not None, inserted
        return found, inserted

    async def next_receipt_serial(self) -> int:
        """The next 电子票据 serial (a sequence: numbers are never reused)."""
        return int(await self.session.scalar(select(RECEIPT_SEQUENCE.next_value())) or 0)

    async def record_notification(self, values: Mapping[str, Any]) -> bool:
        """Keep a notification once; False when it was received before (a repeat)."""
        statement = (
            insert(cast(Table, PaymentNotification.__table__))
            .values(dict(values))
            .on_conflict_do_nothing(index_elements=["notification_id"])
            .returning(PaymentNotification.notification_id)
        )
        return (await self.session.execute(statement)).first() is not None

    async def mark_applied(self, notification_id: str) -> None:
        """The notification is the one that recorded the payment."""
        await self.session.execute(
            update(PaymentNotification)
            .where(PaymentNotification.notification_id == notification_id)
            .values(applied=True)
        )

    async def notifications(self, order_no: str) -> Sequence[PaymentNotification]:
        """The notifications received for an order, oldest first."""
        statement = (
            select(PaymentNotification)
            .where(PaymentNotification.order_no == order_no)
            .order_by(PaymentNotification.received_at)
        )
        return list(await self.session.scalars(statement))

    async def paid_on(self, provider: str, day: date) -> Sequence[PaymentOrder]:
        """Our paid orders of one provider and day (the day's side of reconciliation)."""
        statement = select(PaymentOrder).where(
            PaymentOrder.provider == provider, PaymentOrder.paid_on == day, PaymentOrder.status == PAID
        )
        return await self.get_all(statement.order_by(PaymentOrder.order_no))

    async def by_order_nos(self, order_nos: Sequence[str]) -> Sequence[PaymentOrder]:
        """Orders by number (the provider's lines that are not paid on our side that day)."""
        if not order_nos:
            return []
        return await self.get_all(select(PaymentOrder).where(PaymentOrder.order_no.in_(order_nos)))


#: One key for the daily reconciliation's transaction-level advisory lock.
RECONCILIATION_LOCK_KEY = 0x59_57_52_45_43  # "YWREC"


class ReconciliationRepository(RepositoryBase[Reconciliation]):
    """对账记录 and their lines."""

    model = Reconciliation

    async def try_lock(self) -> bool:
        """Take the daily run's advisory lock for this transaction; False when another worker holds it."""
        return bool(
            await self.session.scalar(select(func.pg_try_advisory_xact_lock(RECONCILIATION_LOCK_KEY)))
        )

    async def replace(self, record: Reconciliation, lines: Sequence[ReconciliationLine]) -> None:
        """Store a day's reconciliation, replacing an earlier run of the same day."""
        await self.session.execute(
            delete(ReconciliationLine).where(
                ReconciliationLine.day == record.day, ReconciliationLine.provider == record.provider
            )
        )
        await self.session.execute(
            delete(Reconciliation).where(
                Reconciliation.day == record.day, Reconciliation.provider == record.provider
            )
        )
        self.session.add(record)
        self.session.add_all(list(lines))
        await self.session.flush()

    async def get(self, provider: str, day: date) -> Reconciliation | None:
        """A day's reconciliation."""
        return await self.session.get(Reconciliation, (day, provider))

    async def lines(self, provider: str, day: date) -> Sequence[ReconciliationLine]:
        """A day's lines, mismatches first."""
        statement = (
            select(ReconciliationLine)
            .where(ReconciliationLine.provider == provider, ReconciliationLine.day == day)
            .order_by((ReconciliationLine.kind == "matched").asc(), ReconciliationLine.id)
        )
        return list(await self.session.scalars(statement))

    async def list(
        self, *, status: str | None, offset: int, limit: int
    ) -> tuple[Sequence[Reconciliation], int]:
        """Reconciliations newest first, by status, and the total."""
        statement = select(Reconciliation)
        if status is not None:
            statement = statement.where(Reconciliation.status == status)
        total = int(await self.session.scalar(select(func.count()).select_from(statement.subquery())) or 0)
        page = statement.order_by(Reconciliation.day.desc()).offset(offset).limit(limit)
        return list(await self.session.scalars(page)), total


class SandboxRepository(RepositoryBase[SandboxTransaction]):
    """The sandbox provider's books (only :mod:`yiwang_management.payment.sandbox` uses it)."""

    model = SandboxTransaction

    async def by_merchant_order(self, order_no: str) -> SandboxTransaction | None:
        """The sandbox order of one of our orders."""
        statement = select(SandboxTransaction).where(SandboxTransaction.merchant_order_no == order_no)
        return await self.get_one_or_none(statement)

    async def get(self, provider_order_id: str, *, for_update: bool = False) -> SandboxTransaction | None:
        """One sandbox order."""
        statement = select(SandboxTransaction).where(
            SandboxTransaction.provider_order_id == provider_order_id
        )
        if for_update:
            statement = statement.with_for_update()
        return await self.get_one_or_none(statement)

    async def add(self, row: SandboxTransaction) -> SandboxTransaction:
        """A new sandbox order."""
        self.session.add(row)
        await self.session.flush()
        return row

    async def paid_on(self, day: date) -> Sequence[SandboxTransaction]:
        """The sandbox's payments of a day (its statement)."""
        statement = select(SandboxTransaction).where(
            SandboxTransaction.paid_on == day, SandboxTransaction.status == PAID
        )
        return await self.get_all(statement.order_by(SandboxTransaction.txn_id))
