"""Queries on accounts and the login-failure counters."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from yiwang_common.db.repository import RepositoryBase
from yiwang_gateway.account.models import Account, AgentAuthorisation, LoginThrottle, RealnameVerification

#: The columns an application copies of its applicant, and whether the account is active; prebuilt,
#: as every submission reads it.
_APPLICANT_PROFILE = select(
    Account.id,
    Account.name,
    Account.kind,
    Account.id_type,
    Account.id_number,
    Account.phone,
    Account.active,
).where(Account.id == bindparam("account_id"))


def _account_key(account_id: str) -> uuid.UUID | None:
    # A token's subject is text; one that is no UUID names no account (not a 500).
    try:
        return uuid.UUID(account_id)
    except ValueError:
        return None


class AccountRepository(RepositoryBase[Account]):
    """账户 queries."""

    model = Account

    async def get_by_username(self, username: str) -> Account | None:
        return await self.get_one_or_none(self.get_base_statement().where(Account.username == username))

    async def get(self, account_id: str) -> Account | None:
        key = _account_key(account_id)
        return None if key is None else await self.get_by_id(key)

    async def get_by_identity(self, id_type: str, id_number: str) -> Account | None:
        """The account of one 证件 (证件类型 + 证件号码), if any."""
        return await self.get_one_or_none(
            self.get_base_statement().where(Account.id_type == id_type, Account.id_number == id_number)
        )

    async def get_many(self, account_ids: Sequence[uuid.UUID]) -> Sequence[Account]:
        return await self.get_all(self.get_base_statement().where(Account.id.in_(account_ids)))

    async def represented_by(self, id_number: str) -> Sequence[Account]:
        """Active legal persons whose 法定代表人 has this 公民身份号码."""
        return await self.get_all(
            self.get_base_statement().where(
                Account.kind == "legal_person",
                Account.legal_rep_id_number == id_number,
                Account.active.is_(True),
            )
        )

    async def applicant_profile(self, account_id: str) -> Any:
        """The columns an application copies of its applicant, and whether the account is active (a row)."""
        key = _account_key(account_id)
        return None if key is None else await self.first_row(_APPLICANT_PROFILE, {"account_id": key})


class LoginThrottleRepository(RepositoryBase[LoginThrottle]):
    """登录失败计数 queries; each one statement, safe when replicas count the same key at once."""

    model = LoginThrottle

    async def blocked_until(self, keys: Sequence[str], now: datetime) -> datetime | None:
        """The latest time any of ``keys`` is blocked until, if one is blocked now."""
        stmt = select(func.max(LoginThrottle.blocked_until)).where(
            LoginThrottle.key.in_(keys), LoginThrottle.blocked_until > now
        )
        row = await self.first_row(stmt)
        return None if row is None else row[0]

    async def count_failure(self, key: str, now: datetime, forget_before: datetime) -> int:
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
        return int((await self.execute(stmt)).scalar_one())

    async def block(self, key: str, until: datetime) -> None:
        await self.execute(update(LoginThrottle).where(LoginThrottle.key == key).values(blocked_until=until))

    async def forget(self, key: str) -> None:
        await self.execute(delete(LoginThrottle).where(LoginThrottle.key == key))


class AgentAuthorisationRepository(RepositoryBase[AgentAuthorisation]):
    """经办人授权 queries."""

    model = AgentAuthorisation

    async def latest_unrevoked(
        self, legal_person_id: uuid.UUID, agent_account_id: uuid.UUID
    ) -> AgentAuthorisation | None:
        """The newest authorisation of one agent by one legal person that was not revoked."""
        stmt = (
            self.get_base_statement()
            .where(
                AgentAuthorisation.legal_person_id == legal_person_id,
                AgentAuthorisation.agent_account_id == agent_account_id,
                AgentAuthorisation.revoked_at.is_(None),
            )
            .order_by(AgentAuthorisation.granted_at.desc())
            .limit(1)
        )
        return await self.get_one_or_none(stmt)

    async def of_legal_person(self, legal_person_id: uuid.UUID) -> Sequence[AgentAuthorisation]:
        """Every authorisation one legal person granted, newest first."""
        stmt = (
            self.get_base_statement()
            .where(AgentAuthorisation.legal_person_id == legal_person_id)
            .order_by(AgentAuthorisation.granted_at.desc())
        )
        return await self.get_all(stmt)

    async def unrevoked_of_agent(self, agent_account_id: uuid.UUID) -> Sequence[AgentAuthorisation]:
        """Every authorisation an agent holds that was not revoked, newest first."""
        stmt = (
            self.get_base_statement()
            .where(
                AgentAuthorisation.agent_account_id == agent_account_id,
                AgentAuthorisation.revoked_at.is_(None),
            )
            .order_by(AgentAuthorisation.granted_at.desc())
        )
        return await self.get_all(stmt)

    async def revoke_unrevoked(
        self, legal_person_id: uuid.UUID, agent_account_id: uuid.UUID, *, at: datetime, by: str
    ) -> None:
        """Revoke whatever the agent held of this legal person (a new grant replaces the old)."""
        await self.execute(
            update(AgentAuthorisation)
            .where(
                AgentAuthorisation.legal_person_id == legal_person_id,
                AgentAuthorisation.agent_account_id == agent_account_id,
                AgentAuthorisation.revoked_at.is_(None),
            )
            .values(revoked_at=at, revoked_by=by)
        )


class RealnameVerificationRepository(RepositoryBase[RealnameVerification]):
    """实名核验记录 queries."""

    model = RealnameVerification

    async def account_by_identity_for_update(self, id_type: str, id_number: str) -> Account | None:
        """The applicant account of a 证件 (locked while its level changes)."""
        stmt = (
            select(Account)
            .where(Account.id_type == id_type, Account.id_number == id_number, Account.kind != "staff")
            .with_for_update()
        )
        row = (await self.execute(stmt)).first()
        return None if row is None else row[0]
