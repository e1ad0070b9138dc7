"""Signed bearer tokens, the OIDC way: issued by the gateway, verified by every service (ADR 0103).

Access tokens are JWTs (RFC 9068 ``at+jwt``) signed with Ed25519 through joserfc; the header
names the signing key (``kid``). Only the issuer holds private keys. Every other service verifies
with the issuer's public keys, fetched from its JWKS (``auth.jwks_url``) and cached, or, for tests
and offline development, from a configured PEM or JWKS. A verifier trusts a list of issuers
(its own and ``auth.trusted_issuers``), so that one platform can accept another's sign-ins
(统分, 分建). Outside production, when no key is configured, the settings load the
installation's own key pair from ``var/keys`` (see ``yiwang_common.keys``).
"""

from __future__ import annotations

import json
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey
from joserfc.jwt import JWTClaimsRegistry
from pydantic import BaseModel, Field

from yiwang_common.config import AuthSettings
from yiwang_common.http.openapi import REQUIRES_ROLE
from yiwang_common.http.problems import Forbidden, Unauthorized
from yiwang_common.jwks import (
    ALGORITHM,
    KeySource,
    LocalKeys,
    RemoteJwks,
    SigningKey,
    StaticKeys,
    public_jwk,
    public_keys,
)

PrincipalKind = Literal["natural_person", "legal_person", "staff", "service"]

#: Roles a token can carry, from the guideline's review rules (审核规则): 申请人 applicant;
#: 收件人 receiver; 受理人 acceptor; 审查人 reviewer; 决定人 approver; 送件人 deliverer;
#: 电子监察 supervisor; 中心管理员 admin (centre administrator).
ROLE_APPLICANT = "applicant"
ROLE_RECEIVER = "receiver"
ROLE_ACCEPTOR = "acceptor"
ROLE_REVIEWER = "reviewer"
ROLE_APPROVER = "approver"
ROLE_DELIVERER = "deliverer"
ROLE_SUPERVISOR = "supervisor"
ROLE_ADMIN = "admin"
STAFF_ROLES = frozenset(
    {
        ROLE_RECEIVER,
        ROLE_ACCEPTOR,
        ROLE_REVIEWER,
        ROLE_APPROVER,
        ROLE_DELIVERER,
        ROLE_SUPERVISOR,
        ROLE_ADMIN,
    }
)

_CACHE_SIZE = 10_000
#: A token longer than this is refused unread (ours are well under 2 KiB).
MAX_TOKEN_BYTES = 8192
#: RFC 9068: the ``typ`` of an access token, so that no other JWT is taken for one.
ACCESS_TOKEN_TYPE = "at+jwt"
#: The ``typ`` of an OpenID Connect ID token: never accepted where an access token is expected.
ID_TOKEN_TYPE = "JWT"
#: OpenID Connect Back-Channel Logout 1.0 §2.4: the explicit ``typ`` of a logout token, so that
#: it is never taken for an ID or access token (and neither of those for it).
LOGOUT_TOKEN_TYPE = "logout+jwt"
#: The one member of a logout token's ``events`` claim.
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"

INVALID_TOKEN = "登录凭证无效或已过期 (invalid or expired token)"


class Principal(BaseModel):
    """Who is calling, as the token says."""

    sub: str = Field(description="Stable account id")
    name: str = Field(description="Display name (姓名 / 单位名称)")
    kind: PrincipalKind
    roles: frozenset[str] = frozenset()
    org_code: str | None = Field(default=None, description="统一社会信用代码 of the staff member's unit")
    region: str | None = Field(
        default=None, description="行政区划代码 (GB/T 2260) of the staff member's unit or post"
    )
    window: str | None = Field(
        default=None,
        description=(
            "窗口: code of the window post (kind window) a staff member holds, in their unit "
            "(``org_code``); the acceptance and on-time statistics per window read it"
        ),
    )
    acting_for: str | None = Field(
        default=None,
        description="统一社会信用代码 of the legal person an authorised agent (经办人) acts for",
    )
    agent_scopes: frozenset[str] = Field(
        default=frozenset(), description="What the agent may do for that legal person (授权范围)"
    )
    realname_level: str | None = Field(
        default=None, description="实名等级: L1 self-declared, L2 registry-verified, L3 in person"
    )
    session_id: str | None = Field(
        default=None, description="登录会话 id (``sid``): sign-out ends this session's refresh tokens"
    )
    issuer: str | None = Field(
        default=None, description="Who signed the token (``iss``); ``sub`` is unique per issuer"
    )

    def has_role(self, role: str) -> bool:
        """Tell whether the principal holds a role.

        Args:
            role: a role name.

        Returns:
            True if the token grants it.
        """
        return role in self.roles

    @property
    def is_staff(self) -> bool:
        """True for government staff accounts."""
        return self.kind == "staff"


class _Trust:
    """An issuer a verifier accepts: where its keys are and which audiences it may address."""

    def __init__(self, source: KeySource, audiences: Sequence[str]) -> None:
        self.source = source
        self.audiences = list(audiences)


class TokenVerifier:
    """Verifies access tokens of the issuers a service trusts, by their published keys."""

    def __init__(
        self,
        settings: AuthSettings,
        *,
        local_keys: Callable[[], Mapping[str, OKPKey]] | None = None,
        http_client: Any = None,
    ) -> None:
        """Create a verifier.

        Args:
            settings: the own issuer and audience, its keys (JWKS URL, PEM or JWKS) and the
                other trusted issuers.
            local_keys: the issuer's own key ring, when this process is the issuer.
            http_client: an ``httpx.AsyncClient`` for JWKS fetches (tests pass the app's).

        Raises:
            ValueError: if the own issuer has no key source, or a configured key is not Ed25519.
        """
        self._leeway = settings.leeway_seconds
        self._issuers: dict[str, _Trust] = {}
        static = public_keys(pem=settings.public_key_pem, jwks=settings.jwks)
        own: KeySource
        if local_keys is not None:
            own = LocalKeys(local_keys, static)
        elif settings.jwks_url:
            own = self._remote(settings, settings.jwks_url, static, http_client)
        elif static:
            own = StaticKeys(static)
        else:
            raise ValueError(
                "auth.public_key_pem is not set (nor auth.jwks_url): no key to verify tokens with"
            )
        self._issuers[settings.issuer] = _Trust(own, [settings.audience])
        for trusted in settings.trusted_issuers:
            keys = public_keys(pem=trusted.public_key_pem, jwks=trusted.jwks)
            source: KeySource = (
                self._remote(settings, trusted.jwks_url, keys, http_client)
                if trusted.jwks_url
                else StaticKeys(keys)
            )
            self._issuers[trusted.issuer] = _Trust(source, trusted.audiences or [settings.audience])
        self._cache: OrderedDict[str, tuple[float, Principal]] = OrderedDict()

    @staticmethod
    def _remote(settings: AuthSettings, url: str, static: Mapping[str, OKPKey], client: Any) -> RemoteJwks:
        return RemoteJwks(
            url,
            cache_seconds=settings.jwks_cache_seconds,
            min_refresh_seconds=settings.jwks_min_refresh_seconds,
            timeout_seconds=settings.jwks_timeout_seconds,
            static=static,
            client=client,
        )

    @property
    def issuers(self) -> list[str]:
        """The issuers whose tokens are accepted."""
        return list(self._issuers)

    def source(self, issuer: str) -> KeySource:
        """The key source of a trusted issuer (tests read a remote one's fetch count)."""
        return self._issuers[issuer].source

    def verify(self, token: str) -> Principal:
        """Check a token with the keys known now (no fetch) and return its principal.

        Args:
            token: the compact JWT.

        Returns:
            The principal it names.

        Raises:
            Unauthorized: if the signature, key, issuer, audience, expiry or claims are wrong.
        """
        cached = self._cached(token)
        if cached is not None:
            return cached
        header, claims, trust = self._inspect(token)
        return self._check(token, header, claims, trust, trust.source.get(header["kid"]))

    async def averify(self, token: str) -> Principal:
        """Check a token, fetching the issuer's JWKS again when it names an unknown key.

        Args:
            token: the compact JWT.

        Returns:
            The principal it names.

        Raises:
            Unauthorized: if the signature, key, issuer, audience, expiry or claims are wrong.
        """
        cached = self._cached(token)
        if cached is not None:
            return cached
        header, claims, trust = self._inspect(token)
        return self._check(token, header, claims, trust, await trust.source.aget(header["kid"]))

    async def _signed(self, token: str, typ: str) -> tuple[str, OKPKey]:
        """The issuer and key of a trusted issuer's JWT of type ``typ``; nothing is verified yet.

        Raises:
            Unauthorized: malformed, another ``alg`` or ``typ``, no ``kid``, untrusted issuer, unknown key.
        """
        header, claims, trust = self._inspect(token, typ=typ)
        iss = claims["iss"]
        key = await trust.source.aget(header["kid"])
        if key is None:
            raise Unauthorized("登录凭证的签名密钥未知 (unknown signing key)")
        return str(iss), key

    async def averify_logout_token(
        self, token: str, *, audiences: Mapping[str, str], max_age_seconds: int
    ) -> dict[str, Any]:
        """Check a logout token (OpenID Connect Back-Channel Logout 1.0 §2.6).

        Args:
            token: the compact JWT the provider posted.
            audiences: the issuers whose logout tokens this platform takes, each with the
                audience it must name (this platform's ``client_id`` there, or its issuer).
            max_age_seconds: how old ``iat`` may be (a captured token is not good for ever).

        Returns:
            The verified claims: ``iss``, ``aud``, ``iat``, ``jti``, ``events`` and ``sub``
            and/or ``sid``.

        Raises:
            Unauthorized: untrusted issuer or one not in ``audiences``, bad signature, wrong
                audience, too old, expired, no logout event, neither ``sub`` nor ``sid``, a ``nonce``.
        """
        iss, key = await self._signed(token, LOGOUT_TOKEN_TYPE)
        if iss not in audiences:
            raise Unauthorized("该平台不能要求本平台退出登录 (issuer may not end sessions here)")
        try:
            verified = jwt.decode(token, key, algorithms=[ALGORITHM])
            claims = dict(verified.claims)
            JWTClaimsRegistry(
                leeway=self._leeway,
                iss={"essential": True, "value": iss},
                aud={"essential": True, "value": audiences[iss]},
                iat={"essential": True},
                jti={"essential": True},
                events={"essential": True},
            ).validate(claims)
        except (JoseError, KeyError, ValueError, TypeError) as exc:
            raise Unauthorized(INVALID_TOKEN) from exc
        events = claims.get("events")
        now = time.time()
        if (
            not isinstance(events, dict)
            or not isinstance(events.get(BACKCHANNEL_LOGOUT_EVENT), dict)
            or "nonce" in claims
            or not (isinstance(claims.get("sub"), str) or isinstance(claims.get("sid"), str))
            or not isinstance(claims.get("jti"), str)
            or not isinstance(claims.get("iat"), int)
            or claims["iat"] < now - max_age_seconds - self._leeway
        ):
            raise Unauthorized("退出登录令牌无效 (not a valid logout token)")
        return claims

    async def averify_id_token_hint(
        self, token: str, *, issuer: str, audiences: Sequence[str]
    ) -> dict[str, Any]:
        """Check an ID token this issuer signed, given back as ``id_token_hint`` (RP-Initiated Logout 1.0 §2).

        Expiry is not checked (the spec asks providers to take expired hints); the signature,
        issuer and audience are.

        Raises:
            Unauthorized: another issuer, an audience not in ``audiences``, a bad signature.
        """
        iss, key = await self._signed(token, ID_TOKEN_TYPE)
        if iss != issuer:
            raise Unauthorized("登录凭证的签发方不是本平台 (ID token of another issuer)")
        try:
            verified = jwt.decode(token, key, algorithms=[ALGORITHM])
            claims = dict(verified.claims)
            JWTClaimsRegistry(
                iss={"essential": True, "value": issuer},
                aud={"essential": True, "values": list(audiences)},
                sub={"essential": True},
            ).validate({name: value for name, value in claims.items() if name != "exp"})
        except (JoseError, KeyError, ValueError, TypeError) as exc:
            raise Unauthorized(INVALID_TOKEN) from exc
        return claims

    async def averify_id_token(self, token: str, *, audience: str, nonce: str) -> dict[str, Any]:
        """Check an OpenID Connect ID token of a trusted issuer (统分: the province's sign-in).

        Args:
            token: the compact JWT from the issuer's token endpoint.
            audience: this platform's ``client_id`` at that issuer.
            nonce: the nonce sent with the authorization request.

        Returns:
            The verified claims.

        Raises:
            Unauthorized: untrusted issuer, unknown key, bad signature, wrong audience or nonce, expired.
        """
        iss, key = await self._signed(token, ID_TOKEN_TYPE)
        try:
            verified = jwt.decode(token, key, algorithms=[ALGORITHM])
            JWTClaimsRegistry(
                leeway=self._leeway,
                iss={"essential": True, "value": str(iss)},
                aud={"essential": True, "value": audience},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(verified.claims)
        except (JoseError, KeyError, ValueError, TypeError) as exc:
            raise Unauthorized(INVALID_TOKEN) from exc
        return dict(verified.claims)

    async def aclose(self) -> None:
        """Close the JWKS fetchers' connections."""
        for trust in self._issuers.values():
            await trust.source.aclose()

    def _cached(self, token: str) -> Principal | None:
        cached = self._cache.get(token)
        if cached is not None and cached[0] > time.time():
            # A token seen before is trusted until it expires: its signature cannot have changed.
            return cached[1]
        return None

    def _inspect(
        self, token: str, *, typ: str = ACCESS_TOKEN_TYPE
    ) -> tuple[dict[str, Any], dict[str, Any], _Trust]:
        """Read header and issuer unverified, only to choose the key; nothing is trusted yet."""
        try:
            if len(token) > MAX_TOKEN_BYTES:
                raise ValueError("token too long")
            compact = jws.extract_compact(token.encode("ascii"))
            header = dict(compact.headers())
            claims = json.loads(compact.payload)
        except (JoseError, ValueError, UnicodeError, TypeError) as exc:
            raise Unauthorized(INVALID_TOKEN) from exc
        if (
            header.get("alg") != ALGORITHM
            or header.get("typ") != typ
            or not isinstance(header.get("kid"), str)
            or not isinstance(claims, dict)
        ):
            raise Unauthorized(INVALID_TOKEN)
        iss = claims.get("iss")
        trust = self._issuers.get(iss) if isinstance(iss, str) else None
        if trust is None:
            raise Unauthorized("登录凭证的签发方不受信任 (token issuer is not trusted)")
        return header, claims, trust

    def _check(
        self, token: str, header: dict[str, Any], claims: dict[str, Any], trust: _Trust, key: OKPKey | None
    ) -> Principal:
        if key is None:
            raise Unauthorized("登录凭证的签名密钥未知 (unknown signing key)")
        try:
            verified = jwt.decode(token, key, algorithms=[ALGORITHM])
            JWTClaimsRegistry(
                leeway=self._leeway,
                iss={"essential": True, "value": str(claims.get("iss"))},
                aud={"essential": True, "values": trust.audiences},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
            ).validate(verified.claims)
            principal = _principal(verified.claims)
        except (JoseError, KeyError, ValueError, TypeError) as exc:
            raise Unauthorized(INVALID_TOKEN) from exc
        self._cache[token] = (float(verified.claims["exp"]), principal)
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return principal


def _principal(claims: Mapping[str, Any]) -> Principal:
    return Principal(
        sub=claims["sub"],
        name=claims.get("name", ""),
        kind=claims["kind"],
        roles=frozenset(claims.get("roles", ())),
        org_code=claims.get("org"),
        region=claims.get("region"),
        window=claims.get("win"),
        acting_for=claims.get("act_for"),
        agent_scopes=frozenset(claims.get("agent_scopes", ())),
        realname_level=claims.get("rnl"),
        session_id=claims.get("sid"),
        issuer=claims.get("iss"),
    )


class TokenIssuer:
    """Signs access tokens with the current key of a key ring; only the gateway holds one."""

    def __init__(self, settings: AuthSettings, keys: Sequence[SigningKey] | None = None) -> None:
        """Create an issuer.

        Args:
            settings: issuer, audience, lifetime and (when ``keys`` is not given) the private key.
            keys: the key ring; defaults to the one configured key.

        Raises:
            ValueError: if there is no key, or the configured one is not Ed25519.
        """
        self._settings = settings
        if keys is None:
            private_pem = settings.private_key_pem.get_secret_value()
            if not private_pem:
                raise ValueError("auth.private_key_pem is not set: no key to sign tokens with")
            keys = [SigningKey.from_pem(private_pem)]
        self.set_keys(keys)

    def set_keys(self, keys: Sequence[SigningKey]) -> None:
        """Replace the key ring (after a rotation or a reload).

        Raises:
            ValueError: if the ring is empty.
        """
        if not keys:
            raise ValueError("a key ring needs at least one key")
        self._keys = sorted(keys, key=lambda k: k.activate_at)

    @property
    def keys(self) -> list[SigningKey]:
        """The ring, oldest activation first."""
        return list(self._keys)

    def current_key(self, now: float | None = None) -> SigningKey:
        """The key that signs at ``now``: the latest one already active."""
        moment = time.time() if now is None else now
        active = [k for k in self._keys if k.activate_at <= moment]
        return active[-1] if active else self._keys[0]

    def public_keys(self, now: float | None = None) -> dict[str, OKPKey]:
        """The published keys by ``kid`` (what the JWKS lists)."""
        moment = time.time() if now is None else now
        return {k.kid: k.key for k in self._keys if k.published(moment)}

    def jwks(self, now: float | None = None) -> dict[str, Any]:
        """The JWKS document: every published key, the next one before it signs, the old one until
        the tokens it signed have expired."""
        moment = time.time() if now is None else now
        return {"keys": [public_jwk(k.key) for k in self._keys if k.published(moment)]}

    def issue(self, principal: Principal, *, ttl_seconds: int | None = None) -> str:
        """Sign an access token for a principal.

        Args:
            principal: whom the token names (its ``session_id`` becomes ``sid``).
            ttl_seconds: lifetime; defaults to the settings' value.

        Returns:
            The compact JWT.
        """
        moment = time.time()
        now = int(moment)
        signing = self.current_key(moment)
        claims: dict[str, Any] = {
            "iss": self._settings.issuer,
            "aud": self._settings.audience,
            "sub": principal.sub,
            "name": principal.name,
            "kind": principal.kind,
            "roles": sorted(principal.roles),
            "org": principal.org_code,
            "region": principal.region,
            "act_for": principal.acting_for,
            "agent_scopes": sorted(principal.agent_scopes),
            "rnl": principal.realname_level,
            "iat": now,
            "exp": now + (ttl_seconds or self._settings.token_ttl_seconds),
            "jti": uuid.uuid4().hex,
        }
        if principal.session_id:
            claims["sid"] = principal.session_id
        if principal.window:
            claims["win"] = principal.window
        header = {"alg": ALGORITHM, "typ": ACCESS_TOKEN_TYPE, "kid": signing.kid}
        return jwt.encode(header, claims, signing.key, algorithms=[ALGORITHM])

    def issue_id_token(
        self,
        principal: Principal,
        *,
        audience: str,
        nonce: str,
        auth_time: int,
        ttl_seconds: int | None = None,
    ) -> str:
        """Sign an OpenID Connect ID token for a relying party (a city portal under 统分).

        Args:
            principal: whom it names.
            audience: the relying party's ``client_id``.
            nonce: the nonce of its authorization request.
            auth_time: when the person signed in (epoch seconds).
            ttl_seconds: lifetime; defaults to the settings' access-token lifetime.

        Returns:
            The compact JWT (``typ: JWT``, so no verifier takes it for an access token).
        """
        moment = time.time()
        now = int(moment)
        signing = self.current_key(moment)
        claims: dict[str, Any] = {
            "iss": self._settings.issuer,
            "aud": audience,
            "sub": principal.sub,
            "name": principal.name,
            "kind": principal.kind,
            "rnl": principal.realname_level,
            "nonce": nonce,
            "auth_time": auth_time,
            "iat": now,
            "exp": now + (ttl_seconds or self._settings.token_ttl_seconds),
            "jti": uuid.uuid4().hex,
        }
        if principal.session_id:
            # The provider's session (OIDC Front-/Back-Channel Logout ``sid``): a logout token
            # naming it ends the relying party's sessions that came from it.
            claims["sid"] = principal.session_id
        header = {"alg": ALGORITHM, "typ": ID_TOKEN_TYPE, "kid": signing.kid}
        return jwt.encode(header, claims, signing.key, algorithms=[ALGORITHM])

    def issue_logout_token(
        self, *, audience: str, subject: str | None, session_id: str | None, ttl_seconds: int = 120
    ) -> str:
        """Sign a logout token (OpenID Connect Back-Channel Logout 1.0 §2.4).

        Args:
            audience: the relying party's ``client_id`` (or, between 分建 peers, its issuer).
            subject: the account (``sub``) whose sessions end; None with a ``session_id``.
            session_id: the provider's session (``sid``) whose relying-party sessions end.
            ttl_seconds: until ``exp``; a receiver also bounds ``iat``'s age.

        Returns:
            The compact JWT (``typ: logout+jwt``; no ``nonce``, a fresh ``jti``).

        Raises:
            ValueError: neither ``subject`` nor ``session_id``.
        """
        if not subject and not session_id:
            raise ValueError("a logout token names a sub, a sid or both")
        moment = time.time()
        now = int(moment)
        signing = self.current_key(moment)
        claims: dict[str, Any] = {
            "iss": self._settings.issuer,
            "aud": audience,
            "iat": now,
            "exp": now + ttl_seconds,
            "jti": uuid.uuid4().hex,
            "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
        }
        if subject:
            claims["sub"] = subject
        if session_id:
            claims["sid"] = session_id
        header = {"alg": ALGORITHM, "typ": LOGOUT_TOKEN_TYPE, "kid": signing.kid}
        return jwt.encode(header, claims, signing.key, algorithms=[ALGORITHM])


#: The OpenAPI security scheme every authenticated operation declares (``bearerAuth``). It only
#: documents and extracts the header: a missing or wrong one is our own 401 problem below.
bearer_scheme = HTTPBearer(
    scheme_name="bearerAuth",
    bearerFormat="JWT",
    description="Ed25519 JWT access token (RFC 9068) from the gateway's POST /api/v1/auth/token; keys in its JWKS",
    auto_error=False,
)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """FastAPI dependency: the verified caller.

    Args:
        request: the current request; the app's verifier is on ``app.state``.
        credentials: the bearer token, if the request carries one.

    Returns:
        The principal.

    Raises:
        Unauthorized: if there is no valid token.
    """
    if credentials is None or not credentials.credentials.strip():
        raise Unauthorized("缺少 Bearer 登录凭证 (missing bearer token)")
    verifier: TokenVerifier = request.app.state.token_verifier
    return await verifier.averify(credentials.credentials.strip())


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_role(*roles: str) -> Any:
    """Build a dependency that admits principals holding any of ``roles``.

    Args:
        *roles: acceptable roles.

    Returns:
        A ``Depends`` resolving to the principal.
    """

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.roles.intersection(roles):
            raise Forbidden(f"需要以下角色之一: {', '.join(roles)}")
        return principal

    # Lets the OpenAPI document declare the 403 this dependency answers.
    setattr(dependency, REQUIRES_ROLE, roles)

    return Depends(dependency)
