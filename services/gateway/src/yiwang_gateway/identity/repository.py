"""Every query of the identity domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update

from yiwang_common.db.repository import RepositoryBase
from yiwang_gateway.account.models import Account
from yiwang_gateway.identity.models import AuthSession, RefreshToken, SigningKeyRecord, SmsChallenge


class SigningKeyRepository(RepositoryBase[SigningKeyRecord]):
    """签名密钥 queries."""

    model = SigningKeyRecord

    async def ring(self, now: datetime) -> Sequence[SigningKeyRecord]:
        """Keys not yet retired, oldest activation first."""
        stmt = (
            self.get_base_statement()
            .where((SigningKeyRecord.retire_at.is_(None)) | (SigningKeyRecord.retire_at > now))
            .order_by(SigningKeyRecord.activate_at)
        )
        return await self.get_all(stmt)

    async def ring_for_update(self) -> Sequence[SigningKeyRecord]:
        """Every key, locked: two rotations at once must not both retire the same key."""
        stmt = self.get_base_statement().order_by(SigningKeyRecord.activate_at).with_for_update()
        return await self.get_all(stmt)


class AccountLookupRepository(RepositoryBase[Account]):
    """The account reads sign-in needs beyond the account domain's."""

    model = Account

    async def active_by_phone(self, phone: str) -> Sequence[Account]:
        """Active accounts registered with this mobile number (SMS sign-in needs exactly one)."""
        stmt = self.get_base_statement().where(Account.phone == phone, Account.active.is_(True)).limit(2)
        return await self.get_all(stmt)

    async def by_id_for_update(self, account_id: uuid.UUID) -> Account | None:
        """The account, locked while its password changes."""
        return await self.get_one_or_none(
            self.get_base_statement().where(Account.id == account_id).with_for_update()
        )


class SessionRepository(RepositoryBase[AuthSession]):
    """登录会话 queries."""

    model = AuthSession

    async def revoke(self, session_id: uuid.UUID, *, now: datetime, reason: str) -> None:
        """End one session (already ended ones keep their first reason)."""
        await self.execute(
            update(AuthSession)
            .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=now, revoke_reason=reason)
        )

    async def revoke_all(self, account_id: uuid.UUID, *, now: datetime, reason: str) -> int:
        """End every live session of an account; return how many."""
        result = await self.execute(
            update(AuthSession)
            .where(AuthSession.account_id == account_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=now, revoke_reason=reason)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def live_count(self, account_id: uuid.UUID, now: datetime) -> int:
        """Sessions of an account that are neither revoked nor past their end."""
        stmt = select(func.count()).where(
            AuthSession.account_id == account_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
        )
        row = await self.first_row(stmt)
        return 0 if row is None else int(row[0])


class RefreshTokenRepository(RepositoryBase[RefreshToken]):
    """刷新令牌 queries."""

    model = RefreshToken

    async def for_update(self, token_hash: str) -> tuple[RefreshToken, AuthSession] | None:
        """The token and its session, both locked: of two requests with one token, one wins."""
        stmt = (
            select(RefreshToken, AuthSession)
            .join(AuthSession, AuthSession.id == RefreshToken.session_id)
            .where(RefreshToken.token_hash == token_hash)
            .with_for_update()
        )
        row = (await self.execute(stmt)).first()
        if row is None:
            return None
        token, record = list(row)
        return token, record

    async def session_of(self, token_hash: str) -> uuid.UUID | None:
        """The session a refresh token belongs to."""
        row = await self.first_row(
            select(RefreshToken.session_id).where(RefreshToken.token_hash == token_hash)
        )
        return None if row is None else uuid.UUID(str(row[0]))


class SmsChallengeRepository(RepositoryBase[SmsChallenge]):
    """短信验证码 queries."""

    model = SmsChallenge

    async def sent_since(
        self, *, phone_key: str | None = None, client_key: str | None = None, since: datetime
    ) -> int:
        """Codes sent to a number (or from a client address) since a moment."""
        stmt = select(func.count()).where(SmsChallenge.created_at >= since)
        if phone_key is not None:
            stmt = stmt.where(SmsChallenge.phone_key == phone_key)
        if client_key is not None:
            stmt = stmt.where(SmsChallenge.client_key == client_key)
        row = await self.first_row(stmt)
        return 0 if row is None else int(row[0])

    async def last_sent(self, phone_key: str) -> datetime | None:
        """When the latest code to this number was sent."""
        row = await self.first_row(
            select(func.max(SmsChallenge.created_at)).where(SmsChallenge.phone_key == phone_key)
        )
        return None if row is None else row[0]

    async def live_for_update(self, phone_key: str, now: datetime) -> SmsChallenge | None:
        """The newest unspent, unexpired challenge of a number, locked (a code is good once)."""
        stmt = (
            self.get_base_statement()
            .where(
                SmsChallenge.phone_key == phone_key,
                SmsChallenge.consumed_at.is_(None),
                SmsChallenge.expires_at > now,
            )
            .order_by(SmsChallenge.created_at.desc())
            .limit(1)
            .with_for_update()
        )
        return await self.get_one_or_none(stmt)

    async def spend_all(self, phone_key: str, now: datetime) -> None:
        """Spend every open challenge of a number (a new code replaces the old ones)."""
        await self.execute(
            update(SmsChallenge)
            .where(SmsChallenge.phone_key == phone_key, SmsChallenge.consumed_at.is_(None))
            .values(consumed_at=now)
        )
