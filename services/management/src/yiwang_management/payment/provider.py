"""The payment-provider interface (支付渠道) and the HMAC signature of its notifications.

A provider makes an order on its side and gives the page where the applicant pays, tells us
asynchronously that a payment happened (a signed notification, repeated until we answer), can be
asked about one order, and gives a statement (对账单) per day. :class:`PaymentProvider` is what
the payment service needs of one; the sandbox (:mod:`.sandbox`) is the one the platform ships,
and a real channel (a bank's, 统一公共支付平台) is another class with the same methods.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

#: The header of a notification's signature: ``t=<unix seconds>,v1=<hex HMAC-SHA256>``.
SIGNATURE_HEADER = "Yiwang-Sandbox-Signature"


class SignatureInvalid(Exception):
    """A notification whose signature is missing, malformed, wrong or too old."""


@dataclass(frozen=True)
class ProviderOrder:
    """The provider's order: its id and the page where the applicant pays."""

    provider_order_id: str
    pay_url: str


@dataclass(frozen=True)
class PaymentResult:
    """A payment as the provider reports it (in a notification or when asked)."""

    provider_order_id: str
    merchant_order_no: str
    status: str
    amount_fen: int
    txn_id: str | None
    paid_at: datetime | None
    notification_id: str | None = None


@dataclass(frozen=True)
class StatementLine:
    """One transaction of the provider's statement for a day (对账单明细)."""

    txn_id: str
    merchant_order_no: str
    amount_fen: int
    paid_at: datetime


class PaymentProvider(Protocol):
    """What the payment service needs of a provider."""

    name: str

    async def create_order(
        self, *, merchant_order_no: str, amount_fen: int, subject: str, return_url: str
    ) -> ProviderOrder:
        """Open an order on the provider's side (the same merchant order twice gives the same one)."""
        ...

    def verify_notification(self, body: bytes, headers: Mapping[str, str]) -> PaymentResult:
        """Check a notification's signature and read it; raises :class:`SignatureInvalid`."""
        ...

    async def query(self, provider_order_id: str) -> PaymentResult | None:
        """Ask the provider about one order (None: it knows no such order)."""
        ...

    async def statement(self, day: date) -> Sequence[StatementLine]:
        """The provider's statement of a day: every payment it took on it."""
        ...


def sign(secret: bytes, body: bytes, *, now: int | None = None) -> str:
    """The signature header of a notification body."""
    stamp = int(time.time()) if now is None else now
    digest = hmac.new(secret, f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def verify(
    secret: bytes, body: bytes, header: str | None, *, tolerance_s: int, now: int | None = None
) -> None:
    """Raise :class:`SignatureInvalid` unless ``header`` signs ``body`` with ``secret`` recently."""
    if not header:
        raise SignatureInvalid("缺少签名")
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    stamp, given = parts.get("t", ""), parts.get("v1", "")
    if not stamp.isdigit() or len(given) != 64:
        raise SignatureInvalid("签名格式不正确")
    expected = hmac.new(secret, f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given):
        raise SignatureInvalid("签名不正确")
    current = int(time.time()) if now is None else now
    if abs(current - int(stamp)) > tolerance_s:
        raise SignatureInvalid("签名已过期")
