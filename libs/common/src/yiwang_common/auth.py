"""Signed bearer tokens: issued by the gateway, verified by every service.

Tokens are JWTs signed with Ed25519 (EdDSA). Only the issuer holds the private key; the
other services get the public key. Outside production, when no key is configured, the
settings load the installation's own key pair from ``var/keys`` (created on first start,
see ``yiwang_common.keys``); in production they refuse to start without a configured key.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from typing import Annotated, Any, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from yiwang_common.config import AuthSettings
from yiwang_common.http.openapi import REQUIRES_ROLE
from yiwang_common.http.problems import Forbidden, Unauthorized

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


class TokenVerifier:
    """Verifies bearer tokens against the issuer's public key."""

    def __init__(self, settings: AuthSettings) -> None:
        """Create a verifier.

        Args:
            settings: issuer, audience and the public key.

        Raises:
            ValueError: if no public key is configured or it is not Ed25519.
        """
        if not settings.public_key_pem:
            raise ValueError("auth.public_key_pem is not set: no key to verify tokens with")
        public_pem = settings.public_key_pem
        loaded = serialization.load_pem_public_key(public_pem.encode())
        if not isinstance(loaded, Ed25519PublicKey):
            raise ValueError("auth.public_key_pem must be an Ed25519 public key")
        self._key = loaded
        self._issuer = settings.issuer
        self._audience = settings.audience
        self._cache: OrderedDict[str, tuple[float, Principal]] = OrderedDict()

    def verify(self, token: str) -> Principal:
        """Check a token and return its principal.

        Args:
            token: the compact JWT.

        Returns:
            The principal it names.

        Raises:
            Unauthorized: if the signature, issuer, audience, expiry or claims are wrong.
        """
        cached = self._cache.get(token)
        if cached is not None and cached[0] > time.time():
            # A token seen before is trusted until it expires: its signature cannot have changed.
            return cached[1]
        principal = self._verify(token)
        self._cache[token] = (self._expiry(token), principal)
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return principal

    @staticmethod
    def _expiry(token: str) -> float:
        return float(jwt.decode(token, options={"verify_signature": False})["exp"])

    def _verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["EdDSA"],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
            return Principal(
                sub=claims["sub"],
                name=claims.get("name", ""),
                kind=claims["kind"],
                roles=frozenset(claims.get("roles", ())),
                org_code=claims.get("org"),
                region=claims.get("region"),
                acting_for=claims.get("act_for"),
                agent_scopes=frozenset(claims.get("agent_scopes", ())),
                realname_level=claims.get("rnl"),
            )
        except (jwt.PyJWTError, KeyError, ValueError) as exc:
            raise Unauthorized("登录凭证无效或已过期 (invalid or expired token)") from exc


class TokenIssuer:
    """Signs tokens; only the service that authenticates people holds one."""

    def __init__(self, settings: AuthSettings) -> None:
        """Create an issuer.

        Args:
            settings: issuer, audience, lifetime and the private key.

        Raises:
            ValueError: if no private key is configured or it is not Ed25519.
        """
        private_pem = settings.private_key_pem.get_secret_value()
        if not private_pem:
            raise ValueError("auth.private_key_pem is not set: no key to sign tokens with")
        loaded = serialization.load_pem_private_key(private_pem.encode(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ValueError("auth.private_key_pem must be an Ed25519 private key")
        self._key = loaded
        self._settings = settings

    def issue(self, principal: Principal, *, ttl_seconds: int | None = None) -> str:
        """Sign a token for a principal.

        Args:
            principal: whom the token names.
            ttl_seconds: lifetime; defaults to the settings' value.

        Returns:
            The compact JWT.
        """
        now = int(time.time())
        claims = {
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
        return jwt.encode(claims, self._key, algorithm="EdDSA")


#: The OpenAPI security scheme every authenticated operation declares (``bearerAuth``). It only
#: documents and extracts the header: a missing or wrong one is our own 401 problem below.
bearer_scheme = HTTPBearer(
    scheme_name="bearerAuth",
    bearerFormat="JWT",
    description="EdDSA (Ed25519) JWT issued by the gateway's POST /api/v1/auth/token",
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
    return verifier.verify(credentials.credentials.strip())


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
