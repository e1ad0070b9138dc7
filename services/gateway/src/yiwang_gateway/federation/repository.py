"""Every query of the federation domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select

from yiwang_common.db.repository import RepositoryBase
from yiwang_gateway.account.models import Account
from yiwang_gateway.federation.models import (
    AuthorizationCode,
    ClientSession,
    DelegatedLogin,
    FederatedIdentity,
    FederatedSession,
    LogoutDelivery,
    LogoutTokenSeen,
)
from yiwang_gateway.identity.models import AuthSession


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

    async def issuer_of(self, account_id: uuid.UUID) -> str | None:
        """The issuer of the other platform's account a local account stands for, if it does."""
        row = await self.first_row(
            select(FederatedIdentity.issuer).where(FederatedIdentity.account_id == account_id)
        )
        return None if row is None else str(row[0])

    async def username_taken(self, username: str) -> bool:
        """Whether a local account already has this user name."""
        row = await self.first_row(select(Account.id).where(Account.username == username))
        return row is not None

    async def is_linked(self, account_id: uuid.UUID) -> bool:
        """Whether the account stands for another platform's (it is not one of this platform's own)."""
        row = await self.first_row(
            select(FederatedIdentity.issuer).where(FederatedIdentity.account_id == account_id)
        )
        return row is not None


class ClientSessionRepository(RepositoryBase[ClientSession]):
    """接入平台会话 queries (the province's side of single logout)."""

    model = ClientSession

    async def record(
        self, *, session_id: uuid.UUID, client_id: str, account_id: uuid.UUID, now: datetime
    ) -> None:
        """A portal signed someone in from this session (once per session and portal)."""
        await self.insert_unless_exists(
            {"session_id": session_id, "client_id": client_id, "account_id": account_id, "created_at": now},
            conflict=("session_id", "client_id"),
        )

    async def clients_of_session(self, session_id: uuid.UUID) -> Sequence[str]:
        """The portals that signed someone in from this session."""
        rows = await self.rows(select(ClientSession.client_id).where(ClientSession.session_id == session_id))
        return [str(r[0]) for r in rows]

    async def clients_of_account(self, account_id: uuid.UUID) -> Sequence[str]:
        """The portals that signed this account in from any of its sessions."""
        rows = await self.rows(
            select(ClientSession.client_id).where(ClientSession.account_id == account_id).distinct()
        )
        return [str(r[0]) for r in rows]


class FederatedSessionRepository(RepositoryBase[FederatedSession]):
    """跨平台会话 queries (a city's side of single logout)."""

    model = FederatedSession

    async def live_sessions(
        self, issuer: str, *, sid: str, subject: str | None, now: datetime
    ) -> Sequence[uuid.UUID]:
        """Local sessions not yet ended that came from the provider's session ``sid``."""
        stmt = (
            select(FederatedSession.session_id)
            .join(AuthSession, AuthSession.id == FederatedSession.session_id)
            .where(
                FederatedSession.issuer == issuer,
                FederatedSession.upstream_sid == sid,
                AuthSession.revoked_at.is_(None),
                AuthSession.expires_at > now,
            )
        )
        if subject is not None:
            stmt = stmt.where(FederatedSession.subject == subject)
        return [uuid.UUID(str(r[0])) for r in await self.rows(stmt)]


class LogoutDeliveryRepository(RepositoryBase[LogoutDelivery]):
    """退出登录通知 queries."""

    model = LogoutDelivery

    async def due_for_update(self, now: datetime, limit: int) -> Sequence[LogoutDelivery]:
        """Deliveries due now, locked; another replica's worker skips them (SKIP LOCKED)."""
        stmt = (
            self.get_base_statement()
            .where(
                LogoutDelivery.delivered_at.is_(None),
                LogoutDelivery.failed_at.is_(None),
                LogoutDelivery.next_attempt_at <= now,
            )
            .order_by(LogoutDelivery.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return await self.get_all(stmt)


class LogoutTokenSeenRepository(RepositoryBase[LogoutTokenSeen]):
    """已受理的退出登录令牌 queries."""

    model = LogoutTokenSeen

    async def first_use(self, *, issuer: str, jti: str, expires_at: datetime, now: datetime) -> bool:
        """Record a logout token's ``jti``; False when it was seen before (a replay)."""
        await self.execute(delete(LogoutTokenSeen).where(LogoutTokenSeen.expires_at < now))
        return await self.insert_unless_exists(
            {"issuer": issuer, "jti": jti, "expires_at": expires_at}, conflict=("issuer", "jti")
        )
