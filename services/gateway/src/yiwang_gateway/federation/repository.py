"""Every query of the federation domain."""

from __future__ import annotations

from sqlalchemy import select

from yiwang_common.db.repository import RepositoryBase
from yiwang_gateway.account.models import Account
from yiwang_gateway.federation.models import AuthorizationCode, DelegatedLogin, FederatedIdentity


class AuthorizationCodeRepository(RepositoryBase[AuthorizationCode]):
    """授权码 queries."""

    model = AuthorizationCode

    async def for_update(self, code_hash: str) -> AuthorizationCode | None:
        """The code, locked: of two redemptions at once, one wins and the other is a replay."""
        return await self.get_one_or_none(
            self.get_base_statement().where(AuthorizationCode.code_hash == code_hash).with_for_update()
        )


class DelegatedLoginRepository(RepositoryBase[DelegatedLogin]):
    """委托登录 queries."""

    model = DelegatedLogin

    async def for_update(self, state: str) -> DelegatedLogin | None:
        """The sign-in started with this state, locked (a callback is good once)."""
        return await self.get_one_or_none(
            self.get_base_statement().where(DelegatedLogin.state == state).with_for_update()
        )


class FederatedIdentityRepository(RepositoryBase[FederatedIdentity]):
    """账户互认 queries."""

    model = FederatedIdentity

    async def account_of(self, issuer: str, subject: str) -> Account | None:
        """The local account linked to another platform's account, if any."""
        stmt = (
            select(Account)
            .join(FederatedIdentity, FederatedIdentity.account_id == Account.id)
            .where(FederatedIdentity.issuer == issuer, FederatedIdentity.subject == subject)
        )
        row = (await self.execute(stmt)).first()
        return None if row is None else row[0]

    async def link_of_username(self, username: str) -> tuple[Account, FederatedIdentity] | None:
        """A local account of this user name and, when it stands for another platform's, its link."""
        stmt = (
            select(Account, FederatedIdentity)
            .join(FederatedIdentity, FederatedIdentity.account_id == Account.id)
            .where(Account.username == username)
        )
        row = (await self.execute(stmt)).first()
        if row is None:
            return None
        account, link = list(row)
        return account, link

    async def username_taken(self, username: str) -> bool:
        """Whether a local account already has this user name."""
        row = await self.first_row(select(Account.id).where(Account.username == username))
        return row is not None
