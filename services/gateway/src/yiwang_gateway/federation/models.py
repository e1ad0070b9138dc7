"""跨平台登录 ORM models: authorization codes (the province as OpenID Provider), delegated sign-ins
in progress (a city as relying party), the links of local accounts to another platform's, and
single logout across platforms (ADR 0116): which portal sessions came from which provider session,
logout tokens to deliver, and logout tokens taken (against replays)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_common.db import TZDateTime, utcnow
from yiwang_gateway.db import Base


class AuthorizationCode(Base):
    """授权码 One authorization code (RFC 6749 §4.1) issued to a registered city portal.

    Only its SHA-256 is stored. It is good once, for ``federation.code_ttl_seconds``, for the one
    client and redirect URI it was issued to, and only with the PKCE verifier (RFC 7636) whose
    S256 challenge it carries. A code presented twice ends the session it opened.
    """

    __tablename__ = "authorization_code"
    __table_args__ = (Index("ix_authorization_code_account_id", "account_id"),)

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    redirect_uri: Mapped[str] = mapped_column(Text)
    account_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("account.id", ondelete="CASCADE"))
    code_challenge: Mapped[str] = mapped_column(String(128))
    nonce: Mapped[str] = mapped_column(String(128))
    auth_time: Mapped[datetime] = mapped_column(TZDateTime())
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(TZDateTime())
    used_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    # The session its redemption opened: revoked if the code is replayed.
    session_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    # The browser's session at this platform when the code was issued: the ID token's ``sid``,
    # whose end is told to the portal (back-channel logout, ADR 0116).
    op_session_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())


class DelegatedLogin(Base):
    """委托登录 A sign-in this city portal has sent to the province and not yet seen come back.

    Keyed by ``state`` (also set in a cookie of the browser that started it, against login
    CSRF); holds the nonce and the PKCE verifier, which never leave this platform.
    """

    __tablename__ = "delegated_login"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64))
    code_verifier: Mapped[str] = mapped_column(String(128))
    next_url: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(TZDateTime())
    used_at: Mapped[datetime | None] = mapped_column(TZDateTime())


class FederatedIdentity(Base):
    """账户互认 A local account that stands for an account of another platform.

    (issuer, subject) is the other platform's account; the local account is created at the first
    sign-in and used at every later one, so nobody registers twice (一地注册、各地互认).
    """

    __tablename__ = "federated_identity"
    __table_args__ = (Index("ix_federated_identity_account_id", "account_id", unique=True),)

    issuer: Mapped[str] = mapped_column(String(255), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("account.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    last_sign_in_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class ClientSession(Base):
    """接入平台会话 (the province, 统分) A city portal signed someone in from this platform's session.

    ``session_id`` is this platform's session (the ID token's ``sid``). When it ends — sign-out,
    password change, a replayed refresh token, the portal's own RP-initiated logout — each portal
    that has a back-channel logout URI is sent a logout token for it (ADR 0116).
    """

    __tablename__ = "client_session"
    __table_args__ = (Index("ix_client_session_account_id", "account_id"),)

    session_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("auth_session.id", ondelete="CASCADE"), primary_key=True
    )
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(Uuid(), ForeignKey("account.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class FederatedSession(Base):
    """跨平台会话 (a city, 统分) A local session opened from the province's sign-in.

    Keeps the province's ``sid`` (a logout token naming it ends this session) and the ID token,
    which the city's sign-out hands back as ``id_token_hint`` (RP-initiated logout).
    """

    __tablename__ = "federated_session"
    __table_args__ = (Index("ix_federated_session_issuer_upstream_sid", "issuer", "upstream_sid"),)

    session_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("auth_session.id", ondelete="CASCADE"), primary_key=True
    )
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    upstream_sid: Mapped[str | None] = mapped_column(String(64))
    id_token: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class LogoutDelivery(Base):
    """退出登录通知 One logout token to post to another platform (back channel, ADR 0116).

    Written in the unit of work that ends the session, so a notice exists exactly when the session
    ended; the delivery worker signs the token when it posts (fresh ``iat`` and ``jti``), and tries
    again with a growing delay while the receiver is unreachable or answers 5xx.
    """

    __tablename__ = "logout_delivery"
    __table_args__ = (
        Index(
            "ix_logout_delivery_due",
            "next_attempt_at",
            postgresql_where=text("delivered_at IS NULL AND failed_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    # The receiver's client_id here (统分) or its issuer (分建 peer): the token's ``aud``.
    audience: Mapped[str] = mapped_column(String(255))
    uri: Mapped[str] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(String(255))
    sid: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(TZDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    delivered_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(TZDateTime())
    last_error: Mapped[str | None] = mapped_column(String(200))


class LogoutTokenSeen(Base):
    """已受理的退出登录令牌 A logout token this platform acted on: the same ``jti`` again is a replay.

    Kept until the token could no longer pass the age check anyway (then it is deleted).
    """

    __tablename__ = "logout_token_seen"
    __table_args__ = (Index("ix_logout_token_seen_expires_at", "expires_at"),)

    issuer: Mapped[str] = mapped_column(String(255), primary_key=True)
    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(TZDateTime())
