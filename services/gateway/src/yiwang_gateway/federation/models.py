"""跨平台登录 ORM models: authorization codes (the province as OpenID Provider), delegated sign-ins
in progress (a city as relying party) and the links of local accounts to another platform's."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, Uuid
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
