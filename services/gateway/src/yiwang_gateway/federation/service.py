"""跨平台登录 The three deployment modes' sign-in (ADR 0114).

- 统建 unified: one platform, nothing here is used.
- 统分 semi-unified: the province's gateway is an OpenID Provider (authorization code flow with
  PKCE, RFC 6749 §4.1 and RFC 7636); a city's gateway is a relying party that sends the browser
  there, redeems the code over the back channel, verifies the ID token with the province's keys
  (its issuer is in ``auth.trusted_issuers``) and opens a local session for a local account linked
  to the province's.
- 分建 split: each platform keeps its accounts; a user name this platform does not know (or a
  local account that stands for another platform's) is checked at the peers' token endpoints,
  and the token a peer answers with is verified with that peer's keys before a local account is
  linked to it — so a citizen of the city signs in at the province, and back, registering once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import uuid
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.auth import ROLE_APPLICANT, Principal, TokenVerifier
from yiwang_common.db import session_scope, utcnow
from yiwang_common.http.problems import Unauthorized
from yiwang_gateway.account.errors import InvalidCredentials
from yiwang_gateway.account.models import Account
from yiwang_gateway.account.passwords import NO_PASSWORD
from yiwang_gateway.account.repository import AccountRepository
from yiwang_gateway.account.throttle import LoginThrottle
from yiwang_gateway.config import OidcClient, PeerPlatform, Settings, UpstreamProvider
from yiwang_gateway.federation.errors import (
    DelegatedLoginFailed,
    DelegationNotConfigured,
    InvalidAuthorizationRequest,
    SignInAtProvince,
    UnknownClient,
    UpstreamUnavailable,
)
from yiwang_gateway.federation.models import (
    AuthorizationCode,
    DelegatedLogin,
    FederatedIdentity,
    FederatedSession,
)
from yiwang_gateway.federation.repository import (
    AuthorizationCodeRepository,
    ClientSessionRepository,
    DelegatedLoginRepository,
    FederatedIdentityRepository,
    FederatedSessionRepository,
)
from yiwang_gateway.identity.errors import InvalidGrant, StaffOnly
from yiwang_gateway.identity.repository import SessionRepository
from yiwang_gateway.identity.service import CLIENT_OIDC, Client, IdentityService, TokenPair

log = logging.getLogger(__name__)

#: Marks a back-channel password check from a peer (分建): answered from local accounts only, never
#: passed on, so recognition is one hop (a peer's peer is not asked) and no request goes round a loop.
PEER_CHECK_HEADER = "X-Yiwang-Peer-Check"
#: Applicants only: staff roles are granted per platform (ADR 0105), never recognised across.
RECOGNISED_KINDS = ("natural_person", "legal_person")


def digest(value: str) -> str:
    """Codes, like refresh tokens, are random; a plain SHA-256 is enough to store them."""
    return hashlib.sha256(value.encode()).hexdigest()


def s256_challenge(verifier: str) -> str:
    """RFC 7636 §4.2: ``BASE64URL(SHA256(ASCII(code_verifier)))``, no padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else None


def form_action_origins(settings: Settings) -> tuple[str, ...]:
    """The other platforms a page's form may end up at after redirects (CSP ``form-action``).

    统分, the province: its sign-in form goes on to ``/authorize`` and then to a city's callback.
    统分, a city: its sign-out form goes on to the province's end-session endpoint (ADR 0116).
    """
    if settings.platform.deployment_mode != "semi_unified":
        return ()
    fed = settings.federation
    urls = [
        uri for client in fed.clients for uri in [*client.redirect_uris, *client.post_logout_redirect_uris]
    ]
    if fed.upstream is not None and fed.upstream.end_session_endpoint:
        urls.append(fed.upstream.end_session_endpoint)
    return tuple(dict.fromkeys(o for o in map(_origin, urls) if o is not None))


def uri_matches(registered: list[str], uri: str) -> bool:
    # Exact string comparison (RFC 9700 §4.1.3): no prefix, no pattern.
    return any(hmac.compare_digest(r.encode(), uri.encode()) for r in registered)


class FederationService:
    """One per app (``app.state.federation``)."""

    def __init__(
        self,
        settings: Settings,
        identity: IdentityService,
        verifier: TokenVerifier,
        http: httpx.AsyncClient,
    ) -> None:
        """Bind to the settings, the sign-in, the verifier (trusted issuers) and a back-channel client."""
        self.settings = settings
        self.identity = identity
        self.verifier = verifier
        self.http = http
        mode = settings.platform.deployment_mode
        fed = settings.federation
        self.clients = {c.client_id: c for c in fed.clients} if mode == "semi_unified" else {}
        self.upstream: UpstreamProvider | None = fed.upstream if mode == "semi_unified" else None
        self.peers: list[PeerPlatform] = list(fed.peers) if mode == "split" else []

    # --- 统分: the province as OpenID Provider ----------------------------------------------

    def client(self, client_id: str, redirect_uri: str) -> OidcClient:
        """The registered client, if ``redirect_uri`` is one of its own.

        Raises:
            UnknownClient: unknown client, or a redirect URI it did not register.
        """
        client = self.clients.get(client_id)
        if client is None:
            raise UnknownClient(f"未登记的接入平台 (unknown client_id {client_id!r})")
        if not uri_matches(client.redirect_uris, redirect_uri):
            raise UnknownClient("回调地址未登记 (redirect_uri is not registered for this client)")
        return client

    @staticmethod
    def check_request(
        *,
        response_type: str,
        scope: str,
        code_challenge: str,
        code_challenge_method: str,
        state: str,
        nonce: str,
    ) -> None:
        """The rest of an authorization request, once the client and redirect URI are known.

        Raises:
            InvalidAuthorizationRequest: anything but ``code`` with S256 PKCE, a state and a nonce.
        """
        if response_type != "code":
            raise InvalidAuthorizationRequest("仅支持授权码模式 (response_type must be code)")
        if "openid" not in scope.split():
            raise InvalidAuthorizationRequest("scope 须包含 openid (scope must include openid)")
        if code_challenge_method != "S256" or not 43 <= len(code_challenge) <= 128:
            raise InvalidAuthorizationRequest("须使用 PKCE S256 (code_challenge with S256 is required)")
        if not state or not nonce:
            raise InvalidAuthorizationRequest("缺少 state 或 nonce (state and nonce are required)")

    async def issue_code(
        self,
        session: AsyncSession,
        principal: Principal,
        *,
        client: OidcClient,
        redirect_uri: str,
        code_challenge: str,
        nonce: str,
    ) -> str:
        """An authorization code for the signed-in person (their province session stays theirs).

        The person's session here becomes the ID token's ``sid``: when it ends, the portal is told
        (back-channel logout, ADR 0116).
        """
        account_id = uuid.UUID(principal.sub)
        try:
            op_session_id = uuid.UUID(principal.session_id) if principal.session_id else None
        except ValueError:
            op_session_id = None
        now = utcnow()
        code = secrets.token_urlsafe(32)
        await AuthorizationCodeRepository.from_session(session).create(
            AuthorizationCode(
                code_hash=digest(code),
                client_id=client.client_id,
                redirect_uri=redirect_uri,
                account_id=account_id,
                code_challenge=code_challenge,
                nonce=nonce,
                auth_time=now,
                created_at=now,
                expires_at=now + timedelta(seconds=self.settings.federation.code_ttl_seconds),
                op_session_id=op_session_id,
            )
        )
        return code

    async def redeem_code(
        self,
        session: AsyncSession,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        code: str,
        client_id: str,
        redirect_uri: str,
        code_verifier: str,
        address: str,
    ) -> tuple[TokenPair, str]:
        """The token request of the code flow: the tokens and an ID token for the city.

        Raises:
            InvalidGrant: unknown, expired or spent code (a spent one also ends the session it
                opened), another client or redirect URI, or a verifier that does not match.
        """
        found = await AuthorizationCodeRepository.from_session(session).for_update(digest(code))
        now = utcnow()
        if found is None:
            raise InvalidGrant("授权码无效 (unknown authorization code)")
        if found.used_at is not None:
            # RFC 6749 §4.1.2: a code used twice is a stolen copy; what it opened ends too.
            spent_session = found.session_id
            await session.rollback()
            if spent_session is not None:
                await self._revoke(sessionmaker, spent_session)
            raise InvalidGrant(
                "授权码已被使用，相关登录会话已终止 (authorization code reused; session revoked)"
            )
        if found.expires_at <= now:
            raise InvalidGrant("授权码已过期 (authorization code expired)")
        if found.client_id != client_id or found.redirect_uri != redirect_uri:
            raise InvalidGrant("授权码不属于此接入平台或回调地址 (client_id or redirect_uri mismatch)")
        if not hmac.compare_digest(s256_challenge(code_verifier), found.code_challenge):
            raise InvalidGrant("PKCE 校验失败 (code_verifier does not match the code_challenge)")
        account = await AccountRepository.from_session(session).get(str(found.account_id))
        if account is None or not account.active:
            raise InvalidGrant("账户已停用 (the account is no longer active)")
        found.used_at = now
        pair = await self.identity.open_session(
            session, account, client=CLIENT_OIDC, method="code", address=address
        )
        found.session_id = uuid.UUID(pair.session_id)
        sid = found.op_session_id or found.session_id
        if found.op_session_id is not None:
            await ClientSessionRepository.from_session(session).record(
                session_id=found.op_session_id, client_id=client_id, account_id=account.id, now=now
            )
        id_token = self.identity.issuer.issue_id_token(
            pair.principal.model_copy(update={"session_id": str(sid)}),
            audience=client_id,
            nonce=found.nonce,
            auth_time=int(found.auth_time.timestamp()),
        )
        return pair, id_token

    async def _revoke(self, sessionmaker: async_sessionmaker[AsyncSession], session_id: uuid.UUID) -> None:
        async with session_scope(sessionmaker) as own:
            await SessionRepository.from_session(own).revoke(session_id, now=utcnow(), reason="code_reused")

    # --- 统分: a city portal as relying party -------------------------------------------------

    def _upstream(self) -> UpstreamProvider:
        if self.upstream is None:
            raise DelegationNotConfigured("本平台不委托省级平台登录 (no upstream identity provider)")
        return self.upstream

    async def start_delegated(self, session: AsyncSession, *, next_url: str) -> tuple[str, str]:
        """Begin a delegated sign-in: the province's authorization URL and the state (for the cookie).

        Raises:
            DelegationNotConfigured: this platform has no upstream.
        """
        upstream = self._upstream()
        state = secrets.token_urlsafe(24)
        nonce = secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)
        now = utcnow()
        await DelegatedLoginRepository.from_session(session).create(
            DelegatedLogin(
                state=state,
                nonce=nonce,
                code_verifier=verifier,
                next_url=next_url,
                created_at=now,
                expires_at=now + timedelta(seconds=self.settings.federation.login_ttl_seconds),
            )
        )
        query = urlencode(
            {
                "response_type": "code",
                "client_id": upstream.client_id,
                "redirect_uri": upstream.redirect_uri,
                "scope": "openid",
                "state": state,
                "nonce": nonce,
                "code_challenge": s256_challenge(verifier),
                "code_challenge_method": "S256",
            }
        )
        return f"{upstream.authorization_endpoint}?{query}", state

    async def finish_delegated(
        self, session: AsyncSession, *, code: str, state: str, cookie_state: str, address: str
    ) -> tuple[TokenPair, str]:
        """The province's callback: redeem the code, verify the ID token, link, open a local session.

        Returns:
            The local tokens and where to go next.

        Raises:
            DelegationNotConfigured: this platform has no upstream.
            DelegatedLoginFailed: state unknown, spent, expired or not this browser's.
            UpstreamUnavailable: the province could not be reached.
            InvalidGrant: the province refused the code.
            Unauthorized: the ID token does not verify (untrusted issuer, audience, nonce …).
        """
        upstream = self._upstream()
        if not state or not cookie_state or not hmac.compare_digest(state.encode(), cookie_state.encode()):
            raise DelegatedLoginFailed("登录状态不符 (state does not match this browser's sign-in)")
        login = await DelegatedLoginRepository.from_session(session).for_update(state)
        now = utcnow()
        if login is None or login.used_at is not None or login.expires_at <= now:
            raise DelegatedLoginFailed("登录已失效，请重新登录 (unknown, used or expired state)")
        login.used_at = now
        try:
            response = await self.http.post(
                upstream.token_endpoint,
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": upstream.redirect_uri,
                    "client_id": upstream.client_id,
                    "code_verifier": login.code_verifier,
                },
                timeout=self.settings.federation.timeout_seconds,
            )
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable(f"{upstream.name}无法访问 ({type(exc).__name__})") from exc
        if response.status_code != 200:
            raise InvalidGrant(f"{upstream.name}拒绝了授权码 (the provider answered {response.status_code})")
        try:
            answer = response.json()
        except ValueError as exc:
            raise UpstreamUnavailable(f"{upstream.name}的应答无法解析 (not JSON)") from exc
        id_token = str(answer.get("id_token") or "") if isinstance(answer, dict) else ""
        claims = await self.verifier.averify_id_token(
            id_token, audience=upstream.client_id, nonce=login.nonce
        )
        if claims.get("iss") != upstream.issuer:
            raise Unauthorized("登录凭证的签发方不是所委托的省级平台 (ID token from another issuer)")
        principal = Principal(
            sub=str(claims["sub"]),
            name=str(claims.get("name") or ""),
            kind=claims.get("kind", "natural_person"),
            realname_level=claims.get("rnl"),
            issuer=upstream.issuer,
        )
        account = await self.link(session, principal, username=None)
        pair = await self.identity.open_session(
            session, account, client=CLIENT_OIDC, method="oidc", address=address
        )
        upstream_sid = claims.get("sid")
        # For single logout (ADR 0116): the province's session this one came from, and the ID
        # token that the city's sign-out hands back to the province as id_token_hint.
        await FederatedSessionRepository.from_session(session).create(
            FederatedSession(
                session_id=uuid.UUID(pair.session_id),
                issuer=upstream.issuer,
                subject=str(claims["sub"]),
                upstream_sid=upstream_sid
                if isinstance(upstream_sid, str) and len(upstream_sid) <= 64
                else None,
                id_token=id_token,
                created_at=now,
            )
        )
        return pair, login.next_url

    # --- linking (统分 and 分建) ------------------------------------------------------------

    async def link(self, session: AsyncSession, principal: Principal, *, username: str | None) -> Account:
        """The local account standing for another platform's account; created at its first sign-in.

        Raises:
            InvalidCredentials: a staff account or an inactive local link (not recognised).
        """
        assert principal.issuer is not None
        if principal.kind not in RECOGNISED_KINDS:
            raise InvalidCredentials()
        links = FederatedIdentityRepository.from_session(session)
        now = utcnow()
        account = await links.account_of(principal.issuer, principal.sub)
        if account is not None:
            if not account.active:
                raise InvalidCredentials()
            # The home platform is the record of the name and the real-name level.
            account.name = principal.name or account.name
            account.realname_level = principal.realname_level or account.realname_level
            link = await links.get_by_id((principal.issuer, principal.sub))
            if link is not None:
                link.last_sign_in_at = now
            return account
        local_name = username if username and not await links.username_taken(username) else None
        account = await AccountRepository.from_session(session).create(
            Account(
                id=uuid.uuid4(),
                username=local_name or "fed_" + digest(f"{principal.issuer}|{principal.sub}")[:40],
                password_hash=NO_PASSWORD,
                kind=principal.kind,
                name=principal.name,
                roles=[ROLE_APPLICANT],
                realname_level=principal.realname_level,
                active=True,
                created_at=now,
            ),
            flush=True,
        )
        await links.create(
            FederatedIdentity(
                issuer=principal.issuer,
                subject=principal.sub,
                account_id=account.id,
                created_at=now,
                last_sign_in_at=now,
            ),
            flush=True,
        )
        log.info("account linked", extra={"issuer": principal.issuer, "account_id": str(account.id)})
        return account

    def sign_in_at_province(self) -> SignInAtProvince:
        """统分, a city: the refusal of a local citizen sign-in (password or SMS code)."""
        name = self.upstream.name if self.upstream is not None else "省级平台"
        return SignInAtProvince(
            f"个人和法人用户请通过{name}统一身份认证登录（本平台不保存其密码和手机号码）；"
            "工作人员请核对用户名和密码 (统分: citizens sign in through the province; "
            "staff: wrong user name or password)"
        )

    def refuse_local_sms(self) -> None:
        """统分, a city: SMS codes are not sent here; the province signs citizens in.

        Raises:
            SignInAtProvince: this platform delegates sign-in to the province.
        """
        if self.upstream is not None:
            name = self.upstream.name
            raise SignInAtProvince(
                f"本平台不提供短信验证码登录，请通过{name}统一身份认证登录 "
                "(统分: SMS sign-in is at the province)"
            )

    async def home_platform(self, session: AsyncSession, account_id: uuid.UUID) -> tuple[str, str] | None:
        """The platform that holds this citizen's password, if not this one: (its name, its
        password-change page). 统分, a city: the province; 分建: the peer a linked account stands for.
        """
        if self.upstream is not None:
            url = self.upstream.password_url or self.upstream.issuer.rstrip("/") + "/me/password"
            return self.upstream.name, url
        issuer = await FederatedIdentityRepository.from_session(session).issuer_of(account_id)
        if issuer is None:
            return None
        peer = next((p for p in self.peers if p.issuer == issuer), None)
        return (peer.name if peer is not None and peer.name else issuer), issuer.rstrip("/") + "/me/password"

    def sms_hint(self) -> str:
        """分建: who cannot sign in here with an SMS code (peers' citizens), else empty.

        A peer's citizen has no number here, and the peer protocol checks passwords only: the
        code is neither sent nor accepted for them; they use the password (checked at home).
        """
        if not self.peers:
            return ""
        names = "、".join(p.name or p.issuer for p in self.peers)
        return (
            f"短信验证码登录仅适用于在本平台注册的账户；在{names}注册的用户请使用密码登录"
            "（由您的注册平台核验），或在注册平台登录。"
        )

    # --- 分建: mutual recognition ------------------------------------------------------------

    async def sign_in_password(
        self,
        session: AsyncSession,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        username: str,
        password: str,
        address: str,
        client: Client,
        forwarded: bool = False,
    ) -> TokenPair:
        """Password sign-in; under 分建 a name not known here is checked at the other platforms.

        ``forwarded`` (a peer's own check, ``X-Yiwang-Peer-Check``) is answered from local accounts.

        统分, at a city: staff only; anything else (an unknown name, a citizen's, a wrong password)
        is ``SignInAtProvince``, alike, so the answer tells no staff names apart.

        Raises:
            LoginThrottled: while the name or the address is blocked.
            InvalidCredentials: no platform knows the name with that password.
            SignInAtProvince: 统分, a city: not a staff member's name and password.
            UpstreamUnavailable: never; an unreachable peer counts as not knowing the name.
        """
        identity = self.identity
        if self.upstream is not None:
            # 统分, a city: citizens' accounts are the province's; only staff have passwords here.
            try:
                return await identity.sign_in_password(
                    session,
                    sessionmaker,
                    username=username,
                    password=password,
                    address=address,
                    client=client,
                    staff_only=True,
                )
            except (InvalidCredentials, StaffOnly) as exc:
                raise self.sign_in_at_province() from exc
        links = FederatedIdentityRepository.from_session(session)
        peers = [] if forwarded else self.peers
        linked = await links.link_of_username(username) if peers else None
        if not peers or (linked is None and await links.username_taken(username)):
            return await identity.sign_in_password(
                session, sessionmaker, username=username, password=password, address=address, client=client
            )
        throttle = LoginThrottle(self.settings.login, username=username, address=address)
        await throttle.check(session)
        home = [p for p in peers if linked is None or p.issuer == linked[1].issuer]
        principal = None
        for peer in home:
            principal = await self._ask_peer(peer, username, password)
            if principal is not None:
                break
        account = None
        if principal is not None:
            try:
                account = await self.link(session, principal, username=username)
            except InvalidCredentials:
                account = None
        if account is None:
            await session.rollback()
            await identity.failed_sign_in(
                sessionmaker,
                throttle,
                name=username,
                method="peer",
                client=client,
                address=address,
                reason="not_recognised",
            )
            raise InvalidCredentials()
        await throttle.succeeded(session)
        return await identity.open_session(session, account, client=client, method="peer", address=address)

    async def _ask_peer(self, peer: PeerPlatform, username: str, password: str) -> Principal | None:
        """Check a password at a peer's token endpoint; its verified principal, or None."""
        try:
            response = await self.http.post(
                peer.token_endpoint,
                data={"grant_type": "password", "username": username, "password": password},
                headers={PEER_CHECK_HEADER: "1"},
                timeout=self.settings.federation.timeout_seconds,
            )
        except httpx.HTTPError as exc:
            log.warning("peer platform unreachable", extra={"peer": peer.issuer, "error": type(exc).__name__})
            return None
        if response.status_code != 200:
            return None
        try:
            body = response.json()
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        try:
            principal = await self.verifier.averify(str(body.get("access_token") or ""))
        except Unauthorized:
            log.warning("peer platform answered a token that does not verify", extra={"peer": peer.issuer})
            return None
        if principal.issuer != peer.issuer:
            return None
        # The peer's session was only a check: end it there at once (RFC 7009, best effort).
        revoke = peer.token_endpoint.rsplit("/", 1)[0] + "/revoke"
        try:
            await self.http.post(
                revoke,
                json={"token": str(body.get("refresh_token") or "")},
                timeout=self.settings.federation.timeout_seconds,
            )
        except httpx.HTTPError:
            log.info("peer session not revoked", extra={"peer": peer.issuer})
        return principal
