"""身份认证 ORM models: signing keys, sign-in sessions, refresh tokens and SMS challenges."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_common.db import TZDateTime, utcnow
from yiwang_gateway.db import Base


class SigningKeyRecord(Base):
    """签名密钥 One Ed25519 key of the gateway's token key ring.

    Only the gateway's schema holds private keys; the other services see the public halves in
    the JWKS. A key is published as soon as it exists, signs from ``activate_at`` and leaves the
    JWKS at ``retire_at``, once every token it signed has expired.
    """

    __tablename__ = "signing_key"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    activate_at: Mapped[datetime] = mapped_column(TZDateTime())
    retire_at: Mapped[datetime | None] = mapped_column(TZDateTime())


class AuthSession(Base):
    """登录会话 One sign-in: the family of refresh tokens that descend from it.

    Revoking the session (sign-out, password change, a replayed refresh token) kills every
    refresh token of the family at once; its access tokens die within their short lifetime.
    """

    __tablename__ = "auth_session"
    __table_args__ = (Index("ix_auth_session_account_id", "account_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("account.id", ondelete="CASCADE"))
    # api (OAuth2 token endpoint), portal (citizen pages) or console (staff pages).
    client: Mapped[str] = mapped_column(String(16))
    # password or sms_code.
    method: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(TZDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    # sign_out, password_changed, refresh_token_reused, revoked.
    revoke_reason: Mapped[str | None] = mapped_column(String(32))


class RefreshToken(Base):
    """刷新令牌 One refresh token of a session; only its SHA-256 is stored.

    A token is good once: using it marks it ``used_at`` and issues the next one of the family.
    A token presented again after that is a replay (someone else holds a copy), so the whole
    family is revoked.
    """

    __tablename__ = "refresh_token"
    __table_args__ = (Index("ix_refresh_token_session_id", "session_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("auth_session.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(TZDateTime())
    used_at: Mapped[datetime | None] = mapped_column(TZDateTime())


class SmsChallenge(Base):
    """短信验证码 One code sent for sign-in; the code itself is never stored, only its HMAC.

    ``phone_key`` is the HMAC of the number too, so the table does not list who signs in.
    """

    __tablename__ = "sms_challenge"
    __table_args__ = (
        Index("ix_sms_challenge_phone_key_created_at", "phone_key", "created_at"),
        Index("ix_sms_challenge_client_key_created_at", "client_key", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    phone_key: Mapped[str] = mapped_column(String(64))
    client_key: Mapped[str] = mapped_column(String(80))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(TZDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    consumed_at: Mapped[datetime | None] = mapped_column(TZDateTime())
