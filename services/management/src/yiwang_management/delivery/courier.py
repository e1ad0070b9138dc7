"""The courier interface (寄递渠道) and the sandbox courier that issues tracking numbers."""

from __future__ import annotations

import secrets
from typing import Protocol


class Courier(Protocol):
    """What delivery needs of a courier: a waybill (运单) and its tracking number."""

    name: str

    async def create_waybill(self, *, recipient: str, phone: str, address: str, reference: str) -> str:
        """Book a pick-up of the result for the address; returns the tracking number (运单号)."""
        ...


class SandboxCourier:
    """模拟寄递: a tracking number per waybill; scans arrive as tracking events."""

    name = "sandbox"

    async def create_waybill(self, *, recipient: str, phone: str, address: str, reference: str) -> str:
        return "YWSB" + "".join(secrets.choice("0123456789") for _ in range(12))
