"""单点退出 Single logout across the platforms of a province (ADR 0116).

- 统分, the province (OpenID Provider): when one of its sessions ends — sign-out, sign-out
  everywhere, password change, RFC 7009 revocation, a replayed refresh token, a portal's
  RP-initiated logout — each city portal that signed someone in from it (``client_session``) and
  registered a ``backchannel_logout_uri`` is sent a logout token (OpenID Connect Back-Channel
  Logout 1.0): ``sid`` for one session, ``sub`` alone for all of them.
- 统分, a city (relying party): takes the province's logout tokens at
  ``POST /api/v1/auth/backchannel-logout`` and ends the local sessions that came from that
  ``sid`` (or every session of the linked account); its own sign-out sends the browser to the
  province's ``end_session_endpoint`` with the ID token as ``id_token_hint`` (RP-Initiated
  Logout 1.0), which ends the province session and so, by the back channel, the other cities'.
- 分建, the home platform: sign-out everywhere and password change of one of its own accounts
  send a ``sub`` logout token to every peer with a ``backchannel_logout_uri``; the peer ends the
  sessions of the local account it linked to that account (mutual recognition).

A notice is a ``logout_delivery`` row written in the unit of work that ends the session, and a
worker posts it, signing the token then, and tries again with a growing delay while the receiver
is down. The platforms have separate NATS servers, so the province's outbox does not reach a
city; the delivery is an HTTP call in any case.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.auth import TokenIssuer, TokenVerifier
from yiwang_common.db import session_scope, utcnow
from yiwang_common.http.problems import Unauthorized
from yiwang_gateway.config import OidcClient, PeerPlatform, Settings, UpstreamProvider
from yiwang_gateway.federation.errors import DelegationNotConfigured, EndSessionRefused, LogoutTokenRefused
from yiwang_gateway.federation.models import LogoutDelivery
from yiwang_gateway.federation.repository import (
    ClientSessionRepository,
    FederatedIdentityRepository,
    FederatedSessionRepository,
    LogoutDeliveryRepository,
    LogoutTokenSeenRepository,
)
from yiwang_gateway.federation.service import uri_matches
from yiwang_gateway.identity.repository import SessionRepository
from yiwang_gateway.identity.service import IdentityService

log = logging.getLogger(__name__)

#: ``revoke_reason`` of the sessions a logout token ended, and of RP-initiated logout.
BACKCHANNEL_REASON = "backchannel_logout"
RP_LOGOUT_REASON = "rp_logout"


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


class SingleLogout:
    """One per app (``app.state.logout``); ``IdentityService.sessions_ended`` is its ``session_ended``."""

    def __init__(
        self,
        settings: Settings,
        identity: IdentityService,
        issuer: TokenIssuer,
        verifier: TokenVerifier,
        http: httpx.AsyncClient,
    ) -> None:
        """Bind to the settings, the sign-in, the key ring's issuer, the trusted issuers and the back channel."""
        self.settings = settings
        self.identity = identity
        self.issuer = issuer
        self.verifier = verifier
        self.http = http
        mode = settings.platform.deployment_mode
        fed = settings.federation
        self.clients: dict[str, OidcClient] = (
            {c.client_id: c for c in fed.clients} if mode == "semi_unified" else {}
        )
        self.upstream: UpstreamProvider | None = fed.upstream if mode == "semi_unified" else None
        self.peers: list[PeerPlatform] = list(fed.peers) if mode == "split" else []
        self._task: asyncio.Task[None] | None = None

    # --- the sender: the province (统分) or the home platform (分建) --------------------------

    async def session_ended(
        self, session: AsyncSession, *, account_id: uuid.UUID, session_id: uuid.UUID | None, reason: str
    ) -> int:
        """Queue the logout notices for ended sessions, in the unit of work that ended them.

        Returns:
            How many notices were queued.
        """
        return await self._queue(session, account_id=account_id, session_id=session_id, reason=reason)

    async def _queue(
        self,
        session: AsyncSession,
        *,
        account_id: uuid.UUID,
        session_id: uuid.UUID | None,
        reason: str,
        exclude: str | None = None,
    ) -> int:
        notices: list[tuple[str, str, str | None]] = []
        if self.clients:
            portals = ClientSessionRepository.from_session(session)
            client_ids = (
                await portals.clients_of_session(session_id)
                if session_id is not None
                else await portals.clients_of_account(account_id)
            )
            for client_id in client_ids:
                client = self.clients.get(client_id)
                if client is not None and client.backchannel_logout_uri and client_id != exclude:
                    sid = str(session_id) if session_id is not None else None
                    notices.append((client_id, client.backchannel_logout_uri, sid))
        if (
            self.peers
            and session_id is None
            # Only this platform's own accounts: a linked one is another platform's to end.
            and not await FederatedIdentityRepository.from_session(session).is_linked(account_id)
        ):
            notices += [
                (p.issuer, p.backchannel_logout_uri, None) for p in self.peers if p.backchannel_logout_uri
            ]
        if not notices:
            return 0
        now = utcnow()
        deliveries = LogoutDeliveryRepository.from_session(session)
        for audience, uri, sid in notices:
            await deliveries.create(
                LogoutDelivery(
                    id=uuid.uuid4(),
                    audience=audience,
                    uri=uri,
                    subject=str(account_id),
                    sid=sid,
                    reason=reason[:32],
                    created_at=now,
                    next_attempt_at=now,
                    attempts=0,
                )
            )
        return len(notices)

    async def deliver_due(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, now: datetime | None = None, limit: int = 50
    ) -> int:
        """Post the logout tokens that are due; return how many were taken.

        A 2xx answer delivers; 400 is the receiver's refusal (given up at once: the same token
        would be refused again); anything else — unreachable, 5xx — is tried again later, up to
        ``federation.logout_max_attempts``.
        """
        fed = self.settings.federation
        delivered = 0
        async with session_scope(sessionmaker) as session:
            due = await LogoutDeliveryRepository.from_session(session).due_for_update(now or utcnow(), limit)
            for d in due:
                token = self.issuer.issue_logout_token(
                    audience=d.audience,
                    subject=d.subject,
                    session_id=d.sid,
                    ttl_seconds=fed.logout_token_ttl_seconds,
                )
                error = None
                try:
                    response = await self.http.post(
                        d.uri, data={"logout_token": token}, timeout=fed.timeout_seconds
                    )
                    status = response.status_code
                except httpx.HTTPError as exc:
                    status, error = 0, type(exc).__name__
                d.attempts += 1
                at = utcnow()
                if 200 <= status < 300:
                    d.delivered_at = at
                    delivered += 1
                    continue
                d.last_error = (error or f"HTTP {status}")[:200]
                if status == 400 or d.attempts >= fed.logout_max_attempts:
                    d.failed_at = at
                    log.warning(
                        "logout notice given up",
                        extra={"audience": d.audience, "attempts": d.attempts, "error": d.last_error},
                    )
                    continue
                delay = min(fed.logout_retry_seconds * 2 ** (d.attempts - 1), fed.logout_retry_max_seconds)
                d.next_attempt_at = at + timedelta(seconds=delay)
                log.info(
                    "logout notice not delivered; will retry",
                    extra={"audience": d.audience, "attempts": d.attempts, "error": d.last_error},
                )
        return delivered

    @property
    def sends(self) -> bool:
        """Whether this platform has anyone to tell (a portal or a peer with a logout URI)."""
        return any(c.backchannel_logout_uri for c in self.clients.values()) or any(
            p.backchannel_logout_uri for p in self.peers
        )

    def start(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        """Run the delivery worker until :meth:`stop` (only where there is anyone to tell)."""
        if self.sends and self._task is None:
            self._task = asyncio.create_task(self._run(sessionmaker))

    async def _run(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        while True:
            try:
                await self.deliver_due(sessionmaker)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("logout delivery round failed")
            await asyncio.sleep(self.settings.federation.logout_poll_seconds)

    async def stop(self) -> None:
        """Stop the delivery worker."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    # --- the receiver: a city (统分) or a peer (分建) ------------------------------------------

    def accepted_issuers(self) -> dict[str, str]:
        """Whose logout tokens this platform takes, each with the audience it must name."""
        if self.upstream is not None:
            return {self.upstream.issuer: self.upstream.client_id}
        return {p.issuer: self.settings.auth.issuer for p in self.peers}

    async def receive(self, session: AsyncSession, token: str) -> int:
        """Act on a logout token: end the local sessions it names; return how many ended.

        Raises:
            LogoutTokenRefused: not from the province or a peer, bad signature, wrong audience,
                too old or expired, not a logout token, a ``nonce``, or its ``jti`` seen before.
        """
        audiences = self.accepted_issuers()
        if not audiences:
            raise LogoutTokenRefused("本平台不接受其他平台的退出登录通知 (no provider or peer configured)")
        fed = self.settings.federation
        try:
            claims = await self.verifier.averify_logout_token(
                token, audiences=audiences, max_age_seconds=fed.logout_max_age_seconds
            )
        except Unauthorized as exc:
            raise LogoutTokenRefused(exc.detail) from exc
        iss, jti = str(claims["iss"]), str(claims["jti"])
        if len(jti) > 64:
            raise LogoutTokenRefused("退出登录令牌的 jti 过长 (jti too long)")
        now = utcnow()
        # Kept as long as the token could pass the age check (and its own expiry) at all.
        iat = datetime.fromtimestamp(int(claims["iat"]), UTC)
        keep = iat + timedelta(seconds=fed.logout_max_age_seconds + self.settings.auth.leeway_seconds)
        exp = claims.get("exp")
        if isinstance(exp, int):
            keep = max(keep, datetime.fromtimestamp(exp, UTC))
        seen = LogoutTokenSeenRepository.from_session(session)
        if not await seen.first_use(issuer=iss, jti=jti, expires_at=keep, now=now):
            raise LogoutTokenRefused("退出登录令牌已使用过 (logout token replayed)")
        sessions = SessionRepository.from_session(session)
        sub = claims.get("sub") if isinstance(claims.get("sub"), str) else None
        sid = claims.get("sid") if isinstance(claims.get("sid"), str) else None
        if sid is not None:
            ended = await FederatedSessionRepository.from_session(session).live_sessions(
                iss, sid=sid, subject=sub, now=now
            )
            for session_id in ended:
                await sessions.revoke(session_id, now=now, reason=BACKCHANNEL_REASON)
            count = len(ended)
        else:
            assert sub is not None
            account = await FederatedIdentityRepository.from_session(session).account_of(iss, sub)
            count = (
                0
                if account is None
                else await sessions.revoke_all(account.id, now=now, reason=BACKCHANNEL_REASON)
            )
        log.info("back-channel logout", extra={"issuer": iss, "sessions_ended": count})
        return count

    # --- RP-initiated logout ----------------------------------------------------------------

    async def upstream_logout_url(self, session: AsyncSession, session_id: str | None) -> str | None:
        """统分, a city: where to send the browser after its local sign-out, so the province
        session (and by the back channel every other city's) ends too; None if nowhere."""
        upstream = self.upstream
        local = _uuid(session_id) if session_id else None
        if upstream is None or not upstream.end_session_endpoint or local is None:
            return None
        record = await FederatedSessionRepository.from_session(session).get_by_id(local)
        if record is None or not record.id_token or record.issuer != upstream.issuer:
            return None
        query = {"id_token_hint": record.id_token, "client_id": upstream.client_id}
        if upstream.post_logout_redirect_uri:
            query["post_logout_redirect_uri"] = upstream.post_logout_redirect_uri
        return f"{upstream.end_session_endpoint}?{urlencode(query)}"

    async def end_session(
        self,
        session: AsyncSession,
        *,
        id_token_hint: str,
        client_id: str,
        post_logout_redirect_uri: str,
        state: str,
    ) -> tuple[str | None, bool]:
        """统分, the province: a portal's RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).

        The hint is an ID token this platform issued to a registered portal (expired is fine);
        its ``sid`` names the session to end. The other portals signed in from it are told by
        the back channel (the asking one has ended its own).

        Returns:
            Where to send the browser (the registered ``post_logout_redirect_uri`` with
            ``state``), or None; and whether a session ended.

        Raises:
            DelegationNotConfigured: this platform registers no portals.
            EndSessionRefused: a hint not this platform's or not a registered portal's, another
                ``client_id``, an unregistered ``post_logout_redirect_uri``.
        """
        if not self.clients:
            raise DelegationNotConfigured("本平台未登记接入平台 (no registered portals)")
        try:
            claims = await self.verifier.averify_id_token_hint(
                id_token_hint, issuer=self.settings.auth.issuer, audiences=list(self.clients)
            )
        except Unauthorized as exc:
            raise EndSessionRefused(exc.detail) from exc
        aud = claims["aud"]
        audience = aud if isinstance(aud, str) else next((a for a in aud if a in self.clients), "")
        client = self.clients.get(audience)
        if client is None or (client_id and client_id != audience):
            raise EndSessionRefused("client_id 与登录凭证不符 (client_id does not match the hint)")
        redirect = None
        if post_logout_redirect_uri:
            if not uri_matches(client.post_logout_redirect_uris, post_logout_redirect_uri):
                raise EndSessionRefused("退出后跳转地址未登记 (post_logout_redirect_uri is not registered)")
            redirect = post_logout_redirect_uri + (f"?{urlencode({'state': state})}" if state else "")
        sid, account_id = _uuid(claims.get("sid")), _uuid(claims.get("sub"))
        ended = False
        if sid is not None and account_id is not None:
            sessions = SessionRepository.from_session(session)
            record = await sessions.get_by_id(sid)
            if record is not None and record.account_id == account_id and record.revoked_at is None:
                await sessions.revoke(sid, now=utcnow(), reason=RP_LOGOUT_REASON)
                await self._queue(
                    session, account_id=account_id, session_id=sid, reason=RP_LOGOUT_REASON, exclude=audience
                )
                ended = True
        return redirect, ended
