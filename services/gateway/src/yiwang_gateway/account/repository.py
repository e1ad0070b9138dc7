"""Queries on accounts."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_gateway.account.models import Account


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
