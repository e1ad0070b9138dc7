"""API models of the identity domain: the OAuth 2.0 token endpoint, revocation, discovery."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from yiwang_common.text import Code, Secret
from yiwang_gateway.account.schemas import PrincipalOut

#: Our grant for one-time SMS codes (RFC 6749 §4.5 extension grant, named by a URN).
SMS_GRANT = "urn:yiwang:params:oauth:grant-type:sms-code"
GrantType = Literal[
    "password", "refresh_token", "authorization_code", "urn:yiwang:params:oauth:grant-type:sms-code"
]
#: 短信验证码 An SMS code: digits only (an authorization code is longer and URL-safe).
SMS_CODE_PATTERN = r"^\d{4,8}$"

#: 手机号码 A mainland mobile number (11 digits starting with 1).
PHONE_PATTERN = r"^1[3-9]\d{9}$"


class TokenRequest(BaseModel):
    """登录/刷新 OAuth 2.0 token request (RFC 6749 §4.3, §6 and an SMS-code extension grant).

    Sent as ``application/x-www-form-urlencoded`` (the OAuth 2.0 way) or as JSON; without
    ``grant_type`` it is a password grant, as the JSON login of earlier versions was.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"grant_type": "password", "username": "zhangsan", "password": "demo123"},
                {"grant_type": "refresh_token", "refresh_token": "Vd0x…"},
                {"grant_type": SMS_GRANT, "phone": "13800000001", "code": "123456"},
                {
                    "grant_type": "authorization_code",
                    "code": "SplxlOBeZQQYbYS6WxSbIA",
                    "redirect_uri": "http://127.0.0.1:8010/sign-in/oidc/callback",
                    "client_id": "city-530400",
                    "code_verifier": "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
                },
            ]
        },
    )

    grant_type: GrantType = Field(default="password", description="password / refresh_token / SMS code grant")
    username: Code | None = Field(default=None, description="用户名 (password grant)")
    password: Secret | None = Field(default=None, description="口令 (password grant)")
    refresh_token: str | None = Field(
        default=None, min_length=1, max_length=256, description="刷新令牌 (refresh_token grant)"
    )
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN, description="手机号码 (SMS code grant)")
    code: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{4,128}$",
        description="短信验证码 (SMS code grant, digits) or 授权码 (authorization_code grant)",
    )
    redirect_uri: str | None = Field(
        default=None, max_length=2000, description="authorization_code grant: as in the authorization request"
    )
    code_verifier: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._~-]{43,128}$",
        description="authorization_code grant: the PKCE verifier (RFC 7636)",
    )
    scope: str | None = Field(
        default=None, max_length=200, description="Ignored: every token has the account's roles"
    )
    client_id: str | None = Field(
        default=None,
        max_length=64,
        description="authorization_code grant: the relying party; ignored otherwise (public clients only)",
    )


class TokenResponse(BaseModel):
    """登录凭证 Access token and refresh token (RFC 6749 §5.1)."""

    access_token: str = Field(examples=["eyJhbGciOiJFZDI1NTE5IiwidHlwIjoiYXQrand0In0…"])
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires", examples=[300])
    refresh_token: str = Field(
        description="Good for one refresh; the answer brings the next", examples=["Vd0x…"]
    )
    refresh_expires_in: int = Field(
        description="Seconds until the refresh token expires unused", examples=[7200]
    )
    session_id: str = Field(description="登录会话 id (``sid`` of the access token)")
    principal: PrincipalOut
    id_token: str | None = Field(
        default=None,
        description="OpenID Connect ID token (authorization_code grant only; ``aud`` = client_id)",
    )


class SmsCodeRequest(BaseModel):
    """获取短信验证码 Ask for a sign-in code."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"phone": "13800000001"}]})

    phone: str = Field(pattern=PHONE_PATTERN, description="手机号码")


class SmsCodeSent(BaseModel):
    """The same answer whether or not an account has the number (nothing is told about accounts)."""

    expires_in: int = Field(description="Seconds the code is good for", examples=[300])
    resend_after: int = Field(description="Seconds before another code can be asked for", examples=[60])


class RevokeRequest(BaseModel):
    """RFC 7009 token revocation: a refresh token ends its whole session."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"token": "Vd0x…", "token_type_hint": "refresh_token"}]},
    )

    token: str = Field(min_length=1, max_length=256)
    token_type_hint: Literal["refresh_token", "access_token"] | None = None


class SignOutRequest(BaseModel):
    """退出登录 End this session, or every session of the account."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"everywhere": False}]})

    everywhere: bool = Field(default=False, description="End every session of the account (all devices)")


class SignedOut(BaseModel):
    """What the sign-out ended."""

    sessions_ended: int = Field(examples=[1])


class PasswordChange(BaseModel):
    """修改密码 Change the password; every session of the account ends."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"current_password": "demo123", "new_password": "n3w-Passw0rd"}]},
    )

    current_password: Secret
    new_password: Secret = Field(min_length=8)


class SigningKeyOut(BaseModel):
    """签名密钥 One key of the JWKS (never its private half)."""

    kid: str
    activate_at: datetime = Field(description="When it starts signing")
    retire_at: datetime | None = Field(description="When it leaves the JWKS")
    state: Literal["next", "active", "retiring"] = Field(
        description="next: published, not signing yet; active: signs; retiring: only verifies"
    )


class RotateRequest(BaseModel):
    """轮换签名密钥 Rotate: the new key is published now and signs after the lead."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"lead_seconds": 600}]})

    lead_seconds: int | None = Field(
        default=None, ge=0, le=7 * 86400, description="Defaults to identity.key_publish_lead_seconds"
    )


class Jwks(BaseModel):
    """JSON Web Key Set (RFC 7517)."""

    keys: list[dict[str, Any]] = Field(
        examples=[
            [
                {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
                    "kid": "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
                    "alg": "Ed25519",
                    "use": "sig",
                }
            ]
        ]
    )


class DiscoveryDocument(BaseModel):
    """OpenID Provider metadata (OpenID Connect Discovery 1.0 §3, RFC 8414)."""

    model_config = ConfigDict(extra="allow")

    issuer: str
    jwks_uri: str
    token_endpoint: str
    revocation_endpoint: str
    end_session_endpoint: str
    grant_types_supported: list[str]
    response_types_supported: list[str]
    subject_types_supported: list[str]
    id_token_signing_alg_values_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    claims_supported: list[str]
    # OpenID Connect Back-Channel Logout 1.0 §2.1 (ADR 0116): this provider posts logout tokens
    # to the portals it signs people in for, with ``sid``.
    backchannel_logout_supported: bool = False
    backchannel_logout_session_supported: bool = False
