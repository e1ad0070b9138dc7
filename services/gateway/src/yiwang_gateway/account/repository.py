"""Queries on accounts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_gateway.account.models import Account, LoginThrottle


class AccountRepository:
    """账户 queries."""

    async def get_by_username(self, session: AsyncSession, username: str) -> Account | None:
        return (
            await session.execute(select(Account).where(Account.username == username))
        ).scalar_one_or_none()

    async def get(self, session: AsyncSession, account_id: str) -> Account | None:
        try:
            key = uuid.UUID(account_id)
        except ValueError:
            return None
        return await session.get(Account, key)

    async def applicant_profile(self, session: AsyncSession, account_id: str) -> Any:
        """The columns an application copies of its applicant, and whether the account is active."""
        try:
            key = uuid.UUID(account_id)
        except ValueError:
            return None
        stmt = select(
            Account.id,
            Account.name,
            Account.kind,
            Account.id_type,
            Account.id_number,
            Account.phone,
            Account.active,
        ).where(Account.id == key)
        return (await session.execute(stmt)).first()

    async def add(self, session: AsyncSession, account: Account) -> Account:
        session.add(account)
        await session.flush()
        return account


account_repository = AccountRepository()


class LoginThrottleRepository:
    """登录失败计数 queries; each one statement, safe when replicas count the same key at once."""

    async def blocked_until(
        self, session: AsyncSession, keys: Sequence[str], now: datetime
    ) -> datetime | None:
        """The latest time any of ``keys`` is blocked until, if one is blocked now."""
        stmt = select(func.max(LoginThrottle.blocked_until)).where(
            LoginThrottle.key.in_(keys), LoginThrottle.blocked_until > now
        )
        return (await session.execute(stmt)).scalar_one_or_none()

    async def count_failure(
        self, session: AsyncSession, key: str, now: datetime, forget_before: datetime
    ) -> int:
        """Count one failure of ``key`` (a quiet period resets the count); return the new count."""
        insert_row = insert(LoginThrottle).values(
            key=key, failures=1, blocked_until=None, last_failure_at=now
        )
        stmt = insert_row.on_conflict_do_update(
            index_elements=[LoginThrottle.key],
            set_={
                # A count whose last failure is long past starts again from one.
                "failures": case(
                    (LoginThrottle.last_failure_at >= forget_before, LoginThrottle.failures + 1), else_=1
                ),
                "last_failure_at": now,
            },
        ).returning(LoginThrottle.failures)
        return int((await session.execute(stmt)).scalar_one())

    async def block(self, session: AsyncSession, key: str, until: datetime) -> None:
        await session.execute(
            update(LoginThrottle).where(LoginThrottle.key == key).values(blocked_until=until)
        )

    async def forget(self, session: AsyncSession, key: str) -> None:
        await session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))


login_throttle_repository = LoginThrottleRepository()
