"""身份认证 Sign-in by password or SMS code, sessions, refresh-token rotation and revocation.

One sign-in opens a session (登录会话) with a family of refresh tokens. Each refresh spends the
token presented and issues the next; a spent token presented again means a copy is in other
hands, so the whole family dies (reuse detection). Sign-out and password change end sessions;
access tokens are short-lived (``auth.token_ttl_seconds``), so an ended session is over
everywhere within that time without any service asking the gateway.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.audit import SIGN_IN, SIGN_IN_FAILED, record_audit
from yiwang_common.auth import Principal, TokenIssuer
from yiwang_common.db import session_scope, utcnow
from yiwang_common.masking import mask_mobile
from yiwang_gateway.account.errors import InvalidCredentials
from yiwang_gateway.account.models import Account
from yiwang_gateway.account.passwords import NO_PASSWORD, hash_password, needs_rehash, verify_password
from yiwang_gateway.account.repository import AccountRepository
from yiwang_gateway.account.service import account_service
from yiwang_gateway.account.throttle import LoginThrottle, client_key
from yiwang_gateway.config import Settings
from yiwang_gateway.db import messaging
from yiwang_gateway.identity.errors import (
    CurrentPasswordWrong,
    InvalidGrant,
    InvalidSmsCode,
    PasswordAtHomePlatform,
    SmsThrottled,
    StaffOnly,
)
from yiwang_gateway.identity.models import AuthSession, RefreshToken, SmsChallenge
from yiwang_gateway.identity.repository import (
    AccountLookupRepository,
    RefreshTokenRepository,
    SessionRepository,
    SmsChallengeRepository,
)
from yiwang_gateway.identity.sms import SmsSender, mask_phone
from yiwang_gateway.staff.service import claims_for as staff_claims_for

log = logging.getLogger(__name__)

#: 会话来源 Where a session was opened: the token endpoint, the citizen pages, the staff console.
Client = str
CLIENT_API = "api"
CLIENT_PORTAL = "portal"
CLIENT_CONSOLE = "console"
#: A city portal's delegated sign-in (统分) at the province, and its arrival at the city.
CLIENT_OIDC = "oidc"


@dataclass(frozen=True)
class TokenPair:
    """What a sign-in or a refresh hands out."""

    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    session_id: str
    principal: Principal


class SessionsEnded(Protocol):
    """Told, in the unit of work that ends them, that sessions ended (single logout, ADR 0116).

    ``session_id`` None: every session of the account (sign-out everywhere, password change).
    """

    async def __call__(
        self, session: AsyncSession, *, account_id: uuid.UUID, session_id: uuid.UUID | None, reason: str
    ) -> object: ...


def refresh_token_hash(token: str) -> str:
    """Refresh tokens are 256 random bits, so a plain SHA-256 is enough to store them."""
    return hashlib.sha256(token.encode()).hexdigest()


def sms_pepper(private_key_pem: SecretStr) -> str:
    """The HMAC key of SMS codes when none is configured: derived from the configured signing key."""
    return hmac.new(
        private_key_pem.get_secret_value().encode(), b"yiwang-sms-code-pepper", hashlib.sha256
    ).hexdigest()


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(0, math.floor((moment - now).total_seconds()))


class IdentityService:
    """The gateway's sign-in; one per app (``app.state.identity``)."""

    def __init__(self, settings: Settings, issuer: TokenIssuer, sender: SmsSender, pepper: str) -> None:
        """Bind the service to its settings, its token issuer, its SMS sender and its HMAC key."""
        self.settings = settings
        self.issuer = issuer
        self.sender = sender
        self._pepper = pepper.encode()
        self.source = f"urn:yiwang:{settings.platform.region_code}:gateway"
        #: Set by the app to the single logout (``federation.logout``): other platforms whose
        #: sessions came from these are told (ADR 0116).
        self.sessions_ended: SessionsEnded | None = None

    async def _ended(
        self, session: AsyncSession, account_id: uuid.UUID, session_id: uuid.UUID | None, reason: str
    ) -> None:
        if self.sessions_ended is not None:
            await self.sessions_ended(session, account_id=account_id, session_id=session_id, reason=reason)

    # --- audit (ADR 0105, 0114) -------------------------------------------------------------

    def _region_of(self, principal: Principal | None) -> str:
        return (principal.region if principal and principal.region else None) or (
            self.settings.platform.region_code
        )

    async def audit_sign_in(
        self, session: AsyncSession, principal: Principal, *, method: str, client: Client, address: str
    ) -> None:
        """登录 Record a sign-in in the unit of work that opens its session."""
        await record_audit(
            session,
            messaging.outbox,
            source=self.source,
            action=SIGN_IN,
            actor=principal,
            region_code=self._region_of(principal),
            target_type="account",
            target_id=principal.sub,
            detail={"method": method, "client": client, "address": address, "issuer": principal.issuer},
        )

    def failure_audit(
        self, *, name: str, method: str, client: Client, address: str, reason: str
    ) -> Callable[[AsyncSession], Awaitable[None]]:
        """登录失败 A writer of the failed sign-in's record, for the throttle's own unit of work.

        The name typed is kept as typed (never the password); a phone number only masked.
        """

        async def write(session: AsyncSession) -> None:
            await record_audit(
                session,
                messaging.outbox,
                source=self.source,
                action=SIGN_IN_FAILED,
                actor_name=name[:100],
                outcome="failure",
                region_code=self.settings.platform.region_code,
                target_type="account",
                target_id=name[:100] or "-",
                detail={"method": method, "client": client, "address": address, "reason": reason},
            )

        return write

    async def failed_sign_in(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        throttle: LoginThrottle,
        *,
        name: str,
        method: str,
        client: Client,
        address: str,
        reason: str,
    ) -> None:
        """Count a failed sign-in and record it, in one unit of work of its own."""
        await throttle.failed(
            sessionmaker,
            self.failure_audit(name=name, method=method, client=client, address=address, reason=reason),
        )

    # --- sign-in -------------------------------------------------------------------------

    async def sign_in_password(
        self,
        session: AsyncSession,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        username: str,
        password: str,
        address: str,
        client: Client,
        staff_only: bool = False,
    ) -> TokenPair:
        """Check a password (throttled, ADR 0013) and open a session.

        Raises:
            LoginThrottled: while the name or the address is blocked (the password is not checked).
            InvalidCredentials: unknown name, wrong password or inactive account.
        """
        throttle = LoginThrottle(self.settings.login, username=username, address=address)
        await throttle.check(session)
        account = await AccountRepository.from_session(session).get_by_username(username)
        ok = await verify_password(password, account.password_hash if account else None)
        if account is None or not ok or not account.active:
            reason = "unknown_account" if account is None else ("inactive" if ok else "wrong_password")
            await self.failed_sign_in(
                sessionmaker,
                throttle,
                name=username,
                method="password",
                client=client,
                address=address,
                reason=reason,
            )
            raise InvalidCredentials()
        await throttle.succeeded(session)
        if needs_rehash(account.password_hash):
            account.password_hash = await hash_password(password)
        if staff_only and account.kind != "staff":
            # Checked after the password, so the answer tells nothing to someone without it.
            raise StaffOnly()
        return await self.open_session(session, account, client=client, method="password", address=address)

    def _key(self, purpose: str, value: str) -> str:
        return hmac.new(self._pepper, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()

    async def send_sms_code(self, session: AsyncSession, *, phone: str, address: str) -> tuple[int, int]:
        """Send a sign-in code to a number; return (seconds it is good for, seconds until a resend).

        The answer is the same whether or not an account has the number: a code is stored and
        the throttles count either way; only the text message is sent to real accounts alone.

        Raises:
            SmsThrottled: too soon after the last code, or too many this hour for the number or the address.
            LoginThrottled: while failed sign-ins block the number or the address.
        """
        s = self.settings.identity.sms
        now = utcnow()
        phone_key = self._key("phone", phone)
        await LoginThrottle(self.settings.login, username="sms:" + phone, address=address).check(session)
        repo = SmsChallengeRepository.from_session(session)
        last = await repo.last_sent(phone_key)
        if last is not None and now - last < timedelta(seconds=s.resend_interval_seconds):
            raise SmsThrottled(retry_after=max(1, s.resend_interval_seconds - _seconds_until(now, last)))
        hour_ago = now - timedelta(hours=1)
        if (
            await repo.sent_since(phone_key=phone_key, since=hour_ago) >= s.per_phone_per_hour
            or await repo.sent_since(client_key=client_key(address), since=hour_ago) >= s.per_client_per_hour
        ):
            raise SmsThrottled(retry_after=3600)
        await repo.spend_all(phone_key, now)
        code = f"{secrets.randbelow(10**s.code_length):0{s.code_length}d}"
        challenge_id = uuid.uuid4()
        await repo.create(
            SmsChallenge(
                id=challenge_id,
                phone_key=phone_key,
                client_key=client_key(address),
                code_hash=self._key(str(challenge_id), code),
                created_at=now,
                expires_at=now + timedelta(seconds=s.code_ttl_seconds),
                attempts=0,
            ),
            flush=True,
        )
        accounts = await AccountLookupRepository.from_session(session).active_by_phone(phone)
        if len(accounts) == 1:
            minutes = max(1, s.code_ttl_seconds // 60)
            await self.sender.send(
                phone, f"【一网】您的登录验证码为 {code}，{minutes} 分钟内有效。如非本人操作请忽略。"
            )
        else:
            log.info(
                "SMS code for a number without one account not sent", extra={"sms_to": mask_phone(phone)}
            )
        return s.code_ttl_seconds, s.resend_interval_seconds

    async def sign_in_sms(
        self,
        session: AsyncSession,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        phone: str,
        code: str,
        address: str,
        client: Client,
    ) -> TokenPair:
        """Check a code (good once, short-lived, a few tries) and open a session.

        Raises:
            LoginThrottled: while the number or the address is blocked.
            InvalidSmsCode: wrong, expired, spent, or no single account has the number.
        """
        throttle = LoginThrottle(self.settings.login, username="sms:" + phone, address=address)
        await throttle.check(session)
        phone_key = self._key("phone", phone)
        now = utcnow()
        challenge = await SmsChallengeRepository.from_session(session).live_for_update(phone_key, now)
        matches = challenge is not None and hmac.compare_digest(
            challenge.code_hash, self._key(str(challenge.id), code)
        )
        accounts = (
            await AccountLookupRepository.from_session(session).active_by_phone(phone) if matches else []
        )
        if challenge is None or not matches or len(accounts) != 1:
            # The request's transaction rolls back; the spent try is counted in one of its own
            # (after releasing the row lock this one holds).
            challenge_id = challenge.id if challenge is not None else None
            await session.rollback()
            if challenge_id is not None:
                await self._count_sms_try(sessionmaker, challenge_id, now)
            await self.failed_sign_in(
                sessionmaker,
                throttle,
                name=mask_mobile(phone) or "",
                method="sms_code",
                client=client,
                address=address,
                reason="wrong_code" if challenge is not None else "no_code",
            )
            raise InvalidSmsCode()
        assert challenge is not None
        challenge.consumed_at = now
        await throttle.succeeded(session)
        return await self.open_session(
            session, accounts[0], client=client, method="sms_code", address=address
        )

    async def _count_sms_try(
        self, sessionmaker: async_sessionmaker[AsyncSession], challenge_id: uuid.UUID, now: datetime
    ) -> None:
        async with session_scope(sessionmaker) as own:
            challenge = await SmsChallengeRepository.from_session(own).get_by_id(challenge_id)
            if challenge is None:
                return
            challenge.attempts += 1
            if challenge.attempts >= self.settings.identity.sms.max_attempts:
                challenge.consumed_at = now

    # --- sessions ------------------------------------------------------------------------

    async def open_session(
        self, session: AsyncSession, account: Account, *, client: Client, method: str, address: str
    ) -> TokenPair:
        """Open a session for an account whose credentials were checked, and record the sign-in."""
        now = utcnow()
        record = AuthSession(
            id=uuid.uuid4(),
            account_id=account.id,
            client=client,
            method=method,
            created_at=now,
            expires_at=now + timedelta(seconds=self.settings.identity.session_max_seconds),
        )
        await SessionRepository.from_session(session).create(record, flush=True)
        pair = await self._tokens(session, account, record, now)
        await self.audit_sign_in(
            session,
            pair.principal.model_copy(update={"issuer": self.settings.auth.issuer}),
            method=method,
            client=client,
            address=address,
        )
        return pair

    async def _tokens(
        self, session: AsyncSession, account: Account, record: AuthSession, now: datetime
    ) -> TokenPair:
        refresh = secrets.token_urlsafe(32)
        expires_at = min(
            now + timedelta(seconds=self.settings.identity.refresh_idle_seconds), record.expires_at
        )
        await RefreshTokenRepository.from_session(session).create(
            RefreshToken(
                token_hash=refresh_token_hash(refresh),
                session_id=record.id,
                created_at=now,
                expires_at=expires_at,
            )
        )
        update: dict[str, object] = {"session_id": str(record.id)}
        if account.kind == "staff":
            # The region of the staff member's department (组织机构, from management) rides in the
            # token, so every service scopes by it without deriving it from the credit code.
            assignment = await staff_claims_for(session, account.username)
            if assignment is not None and assignment.region_code:
                update["region"] = assignment.region_code
            if assignment is not None and assignment.window_code:
                # 窗口: statistics per window read it from the acceptor's token (ADR 0122).
                update["window"] = assignment.window_code
        principal = account_service.principal(account).model_copy(update=update)
        ttl = self.settings.auth.token_ttl_seconds
        return TokenPair(
            access_token=self.issuer.issue(principal, ttl_seconds=ttl),
            expires_in=ttl,
            refresh_token=refresh,
            refresh_expires_in=_seconds_until(expires_at, now),
            session_id=str(record.id),
            principal=principal,
        )

    async def refresh(
        self, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], *, refresh_token: str
    ) -> TokenPair:
        """Spend a refresh token and hand out the next one with a new access token.

        Raises:
            InvalidGrant: unknown, expired or revoked; or spent before, which also ends the session.
        """
        found = await RefreshTokenRepository.from_session(session).for_update(
            refresh_token_hash(refresh_token)
        )
        if found is None:
            raise InvalidGrant("刷新令牌无效 (unknown refresh token)")
        token, record = found
        now = utcnow()
        if record.revoked_at is not None or record.expires_at <= now:
            raise InvalidGrant("登录会话已结束，请重新登录 (the session has ended)")
        if token.used_at is not None:
            session_id, account_id = record.id, record.account_id
            await session.rollback()
            await self._revoke_now(sessionmaker, session_id, account_id, reason="refresh_token_reused")
            log.warning(
                "refresh token reused: session revoked",
                extra={"session_id": str(session_id), "account_id": str(account_id)},
            )
            raise InvalidGrant(
                "刷新令牌已被使用，登录会话已终止 (refresh token reused; the session is revoked)"
            )
        if token.expires_at <= now:
            raise InvalidGrant("刷新令牌已过期，请重新登录 (refresh token expired)")
        account = await AccountRepository.from_session(session).get(str(record.account_id))
        if account is None or not account.active:
            raise InvalidGrant("账户已停用 (the account is no longer active)")
        token.used_at = now
        return await self._tokens(session, account, record, now)

    async def _revoke_now(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        session_id: uuid.UUID,
        account_id: uuid.UUID,
        *,
        reason: str,
    ) -> None:
        """Revoke in a transaction of its own: the request's, which answers an error, rolls back."""
        async with session_scope(sessionmaker) as own:
            await SessionRepository.from_session(own).revoke(session_id, now=utcnow(), reason=reason)
            await self._ended(own, account_id, session_id, reason)

    async def revoke_refresh_token(self, session: AsyncSession, *, token: str) -> None:
        """RFC 7009: end the session of a refresh token; an unknown token is no error."""
        session_id = await RefreshTokenRepository.from_session(session).session_of(refresh_token_hash(token))
        if session_id is None:
            return
        repo = SessionRepository.from_session(session)
        record = await repo.get_by_id(session_id)
        if record is None or record.revoked_at is not None:
            return
        await repo.revoke(session_id, now=utcnow(), reason="revoked")
        await self._ended(session, record.account_id, session_id, "revoked")

    async def sign_out(self, session: AsyncSession, principal: Principal, *, everywhere: bool) -> int:
        """End the token's session, or all of the account's; return how many ended."""
        repo = SessionRepository.from_session(session)
        now = utcnow()
        account_id = _uuid(principal.sub)
        if everywhere and account_id is not None:
            ended = await repo.revoke_all(account_id, now=now, reason="sign_out")
            await self._ended(session, account_id, None, "sign_out")
            return ended
        session_id = _uuid(principal.session_id or "")
        if session_id is None:
            return 0
        await repo.revoke(session_id, now=now, reason="sign_out")
        if account_id is not None:
            await self._ended(session, account_id, session_id, "sign_out")
        return 1

    async def change_password(
        self,
        session: AsyncSession,
        sessionmaker: async_sessionmaker[AsyncSession],
        principal: Principal,
        *,
        current_password: str,
        new_password: str,
        address: str,
    ) -> int:
        """Change the password and end every session of the account; return how many ended.

        Raises:
            LoginThrottled: while failed sign-ins block the account or the address.
            CurrentPasswordWrong: the current password is wrong (counted as a failed sign-in).
            InvalidCredentials: the token names no active account.
            PasswordAtHomePlatform: the account stands for another platform's (no password here).
        """
        account_id = _uuid(principal.sub)
        account = (
            await AccountLookupRepository.from_session(session).by_id_for_update(account_id)
            if account_id
            else None
        )
        if account is None or not account.active:
            raise InvalidCredentials()
        if account.password_hash == NO_PASSWORD:
            raise PasswordAtHomePlatform(
                "您的账户由注册平台（统分：省级平台；分建：您注册的平台）管理，请在该平台修改密码 "
                "(the password of a linked account is changed at its home platform)"
            )
        throttle = LoginThrottle(self.settings.login, username=account.username, address=address)
        await throttle.check(session)
        if not await verify_password(current_password, account.password_hash):
            await session.rollback()
            await throttle.failed(sessionmaker)
            raise CurrentPasswordWrong()
        account.password_hash = await hash_password(new_password)
        ended = await SessionRepository.from_session(session).revoke_all(
            account.id, now=utcnow(), reason="password_changed"
        )
        await self._ended(session, account.id, None, "password_changed")
        return ended


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
