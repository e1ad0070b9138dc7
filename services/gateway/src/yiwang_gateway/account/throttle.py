"""登录限制 Login throttling: exponential backoff, then a temporary lockout (ADR 0013).

Two counters see every failed login: one per account name (whether or not the account exists,
so that the answers do not tell which names are real) and one per client address. While either
is blocked, the password is not even checked and the answer is 429 with ``Retry-After``.
A successful login forgets the account's failures; the client address keeps its count until a
quiet period passes, so one right password does not unlock guessing at other accounts.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from ipaddress import IPv4Address, IPv6Address, ip_address

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.db import session_scope, utcnow
from yiwang_gateway.account.errors import LoginThrottled
from yiwang_gateway.account.repository import LoginThrottleRepository
from yiwang_gateway.config import LoginThrottleSettings


def account_key(username: str) -> str:
    """The counter key of an account name: hashed, so no typed text is stored."""
    return "account:" + hashlib.sha256(username.strip().casefold().encode()).hexdigest()


def client_key(address: str) -> str:
    """The counter key of a client address."""
    return "client:" + address


def _parse(value: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(value.strip())
    except ValueError:
        return None


def client_address(request: Request, settings: LoginThrottleSettings) -> str:
    """The caller's address: the peer, or what trusted proxies say in ``X-Forwarded-For``.

    The header is read right to left and trusted only as far as each hop is a configured proxy,
    so a client cannot choose its own address by sending the header itself.
    """
    peer = request.client.host if request.client else ""
    address = _parse(peer)
    if address is None:
        return peer or "unknown"
    hops = [h for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    while any(address in net for net in settings.trusted_proxies) and hops:
        forwarded = _parse(hops.pop())
        if forwarded is None:
            break
        address = forwarded
    return str(address)


def delay_after(failures: int, *, free: int, lockout: int, settings: LoginThrottleSettings) -> float:
    """Seconds a key is blocked after its ``failures``-th failure: none, doubling, then the lockout."""
    if failures >= lockout:
        return settings.lockout_seconds
    if failures < free:
        return 0.0
    return float(min(settings.backoff_base_seconds * 2 ** (failures - free), settings.backoff_max_seconds))


class LoginThrottle:
    """Checks and counts login attempts for one request."""

    def __init__(self, settings: LoginThrottleSettings, *, username: str, address: str) -> None:
        self.settings = settings
        self.account = account_key(username)
        self.client = client_key(address)

    async def check(self, session: AsyncSession) -> None:
        """Refuse the attempt with 429 while the account name or the address is blocked."""
        now = utcnow()
        until = await LoginThrottleRepository.from_session(session).blocked_until(
            [self.account, self.client], now
        )
        if until is not None:
            raise LoginThrottled(retry_after=max(1, math.ceil((until - now).total_seconds())))

    async def failed(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        also: Callable[[AsyncSession], Awaitable[None]] | None = None,
    ) -> None:
        """Count a failure in its own transaction: the request's own unit of work rolls back.

        ``also`` writes in that same transaction (the failed sign-in's audit record).
        """
        s = self.settings
        now = utcnow()
        forget_before = now - timedelta(seconds=s.forget_after_seconds)
        limits = {
            self.account: (s.account_free_failures, s.account_lockout_failures),
            self.client: (s.client_free_failures, s.client_lockout_failures),
        }
        async with session_scope(sessionmaker) as session:
            counters = LoginThrottleRepository.from_session(session)
            for key, (free, lockout) in limits.items():
                failures = await counters.count_failure(key, now, forget_before)
                wait = delay_after(failures, free=free, lockout=lockout, settings=s)
                if wait > 0:
                    await counters.block(key, _after(now, wait))
            if also is not None:
                await also(session)

    async def succeeded(self, session: AsyncSession) -> None:
        """Forget the account name's failures (the address keeps its count)."""
        await LoginThrottleRepository.from_session(session).forget(self.account)


def _after(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)
