"""模拟支付渠道 The sandbox provider: orders, a cashier where the applicant "pays", signed
asynchronous notifications and a daily statement, all without a bank.

It keeps its books in ``sandbox_payment`` and commits in units of work of its own, apart from
ours, as a remote provider does: an order it made stays made when our transaction fails, and a
payment it took stays taken when our notification handler is down. That is what reconciliation
exists to find.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from urllib.parse import quote

import httpx
import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.db import session_scope, utcnow
from yiwang_management.config import PaymentSettings
from yiwang_management.payment import provider as signatures
from yiwang_management.payment.models import PAID, UNPAID, SandboxTransaction
from yiwang_management.payment.provider import PaymentResult, ProviderOrder, StatementLine
from yiwang_management.payment.repository import SandboxRepository
from yiwang_management.shared import local_date

log = logging.getLogger(__name__)

NAME = "sandbox"


def _result(row: SandboxTransaction, notification_id: str | None = None) -> PaymentResult:
    return PaymentResult(
        provider_order_id=row.provider_order_id,
        merchant_order_no=row.merchant_order_no,
        status=row.status,
        amount_fen=row.amount_fen,
        txn_id=row.txn_id,
        paid_at=row.paid_at,
        notification_id=notification_id,
    )


class SandboxProvider:
    """The sandbox channel; a :class:`~yiwang_management.payment.provider.PaymentProvider`."""

    name = NAME

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: PaymentSettings) -> None:
        self._sessionmaker = sessionmaker
        self._settings = settings
        self._secret = settings.sandbox_secret.get_secret_value().encode()

    # --- the PaymentProvider interface ---------------------------------------------------------

    async def create_order(
        self, *, merchant_order_no: str, amount_fen: int, subject: str, return_url: str
    ) -> ProviderOrder:
        async with session_scope(self._sessionmaker) as session:
            books = SandboxRepository.from_session(session)
            row = await books.by_merchant_order(merchant_order_no)
            if row is None:
                row = await books.add(
                    SandboxTransaction(
                        provider_order_id="SBX" + secrets.token_hex(12),
                        merchant_order_no=merchant_order_no,
                        amount_fen=amount_fen,
                        subject=subject[:200],
                        notify_url=self._settings.notify_url,
                        status=UNPAID,
                        created_at=utcnow(),
                    )
                )
            return ProviderOrder(row.provider_order_id, self.pay_url(row.provider_order_id, return_url))

    def verify_notification(self, body: bytes, headers: Mapping[str, str]) -> PaymentResult:
        signatures.verify(
            self._secret,
            body,
            headers.get(signatures.SIGNATURE_HEADER),
            tolerance_s=self._settings.signature_tolerance_s,
        )
        try:
            data = orjson.loads(body)
            paid_at = datetime.fromisoformat(data["paid_at"]) if data.get("paid_at") else None
            return PaymentResult(
                provider_order_id=str(data["provider_order_id"]),
                merchant_order_no=str(data["merchant_order_no"]),
                status=str(data["status"]),
                amount_fen=int(data["amount_fen"]),
                txn_id=str(data["txn_id"]),
                paid_at=paid_at,
                notification_id=str(data["notification_id"]),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise signatures.SignatureInvalid("通知内容无法识别") from exc

    async def query(self, provider_order_id: str) -> PaymentResult | None:
        async with session_scope(self._sessionmaker) as session:
            row = await SandboxRepository.from_session(session).get(provider_order_id)
            return None if row is None else _result(row)

    async def statement(self, day: date) -> Sequence[StatementLine]:
        async with session_scope(self._sessionmaker) as session:
            rows = await SandboxRepository.from_session(session).paid_on(day)
            return [
                StatementLine(r.txn_id or "", r.merchant_order_no, r.amount_fen, r.paid_at or utcnow())
                for r in rows
            ]

    # --- the sandbox's own cashier --------------------------------------------------------------

    def pay_url(self, provider_order_id: str, return_url: str) -> str:
        """The cashier page (the portal's, which calls :meth:`pay`) with where to return."""
        base = self._settings.cashier_url.format(provider_order_id=provider_order_id)
        return f"{base}?return={quote(return_url, safe='')}"

    async def order(self, provider_order_id: str) -> PaymentResult | None:
        """What the cashier shows (amount, subject, status)."""
        return await self.query(provider_order_id)

    async def subject(self, provider_order_id: str) -> str | None:
        async with session_scope(self._sessionmaker) as session:
            row = await SandboxRepository.from_session(session).get(provider_order_id)
            return None if row is None else row.subject

    async def pay(self, provider_order_id: str, *, now: datetime | None = None) -> tuple[bytes, str] | None:
        """模拟付款 The applicant pays at the cashier: the sandbox takes the money and signs the
        notification it will send (paying twice changes nothing). None: no such order."""
        async with session_scope(self._sessionmaker) as session:
            books = SandboxRepository.from_session(session)
            row = await books.get(provider_order_id, for_update=True)
            if row is None:
                return None
            if row.status != PAID:
                moment = now or utcnow()
                await books.update(
                    row,
                    update_dict={
                        "status": PAID,
                        "txn_id": "TXN" + secrets.token_hex(12),
                        "paid_at": moment,
                        "paid_on": local_date(moment),
                    },
                )
            body = orjson.dumps(
                {
                    "notification_id": "NTF" + secrets.token_hex(12),
                    "provider_order_id": row.provider_order_id,
                    "merchant_order_no": row.merchant_order_no,
                    "status": row.status,
                    "amount_fen": row.amount_fen,
                    "txn_id": row.txn_id,
                    "paid_at": row.paid_at.isoformat() if row.paid_at else None,
                }
            )
            header = signatures.sign(self._secret, body)
            await books.update(row, update_dict={"notification": body.decode(), "signature": header})
            return body, header

    async def notify(self, provider_order_id: str, body: bytes, header: str) -> bool:
        """Send the notification to the merchant's ``notify_url``, a few times, until it answers 2xx."""
        async with session_scope(self._sessionmaker) as session:
            row = await SandboxRepository.from_session(session).get(provider_order_id)
            url = row.notify_url if row else None
        if not url:
            return False
        delay = 0.5
        async with httpx.AsyncClient(timeout=5.0) as http:
            for attempt in range(self._settings.notify_attempts):
                try:
                    answer = await http.post(
                        url,
                        content=body,
                        headers={"Content-Type": "application/json", signatures.SIGNATURE_HEADER: header},
                    )
                    if answer.is_success:
                        async with session_scope(self._sessionmaker) as session:
                            books = SandboxRepository.from_session(session)
                            row = await books.get(provider_order_id, for_update=True)
                            if row is not None:
                                await books.update(row, update_dict={"notified_at": utcnow()})
                        return True
                    log.warning("sandbox notification refused", extra={"status": answer.status_code})
                except httpx.HTTPError as exc:
                    log.warning(
                        "sandbox notification not delivered", extra={"attempt": attempt, "error": str(exc)}
                    )
                if attempt + 1 < self._settings.notify_attempts:
                    await asyncio.sleep(delay)
                    delay *= 2
        return False
