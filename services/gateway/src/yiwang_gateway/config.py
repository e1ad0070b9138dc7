"""Settings of the gateway service (environment prefix ``GATEWAY_``)."""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Annotated, ClassVar

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from yiwang_common.config import ServiceSettings


class LoginThrottleSettings(BaseModel):
    """登录限制 Failed logins slow down, then lock, per account and per client address (ADR 0013).

    A client address sees many more failures before it is slowed than an account does, because
    a whole office (or a carrier's NAT) may sit behind one address.
    """

    account_free_failures: Annotated[int, Field(ge=1)] = 5
    account_lockout_failures: Annotated[int, Field(ge=2)] = 10
    client_free_failures: Annotated[int, Field(ge=1)] = 30
    client_lockout_failures: Annotated[int, Field(ge=2)] = 200
    # Wait after the first failure past the free ones; it doubles with each further failure.
    backoff_base_seconds: Annotated[float, Field(gt=0)] = 1.0
    backoff_max_seconds: Annotated[float, Field(gt=0)] = 300.0
    lockout_seconds: Annotated[float, Field(gt=0)] = 900.0
    # Failures older than this are forgotten: a counter starts again after a quiet period.
    forget_after_seconds: Annotated[float, Field(gt=0)] = 86_400.0
    # Peers whose X-Forwarded-For is believed (the ingress); nobody's by default.
    trusted_proxies: list[IPv4Network | IPv6Network] = Field(default_factory=list)


class SmsSettings(BaseModel):
    """短信验证码 One-time sign-in codes by SMS (ADR 0103)."""

    # "log" writes the code to the log (outside production; there it sends nothing and the code
    # request answers 503); else "module:Class" of an SmsSender.
    sender: str = "log"
    code_length: Annotated[int, Field(ge=4, le=8)] = 6
    code_ttl_seconds: Annotated[int, Field(ge=30, le=900)] = 300
    # Wrong codes a challenge takes before it is spent (the login throttle counts them too).
    max_attempts: Annotated[int, Field(ge=1, le=10)] = 5
    resend_interval_seconds: Annotated[int, Field(ge=0)] = 60
    # Codes sent to one number, and from one client address, within an hour.
    per_phone_per_hour: Annotated[int, Field(ge=1)] = 5
    per_client_per_hour: Annotated[int, Field(ge=1)] = 30
    # Key of the HMAC that codes are stored under: a six-digit code hashed without a secret is
    # found by trying all million. Empty: derived from the configured signing key (a secret only
    # the gateway holds), so no further secret has to be provisioned.
    code_pepper: SecretStr = SecretStr("")


class IdentitySettings(BaseModel):
    """登录会话 Sessions, refresh tokens and signing-key rotation (ADR 0103)."""

    # A refresh token not used for this long is dead; each use gives a new one (rotation).
    refresh_idle_seconds: Annotated[int, Field(ge=60)] = 2 * 3600
    # However often it is refreshed, a session ends this long after sign-in.
    session_max_seconds: Annotated[int, Field(ge=300)] = 12 * 3600
    # A new signing key is published this long before it signs: longer than the verifiers'
    # JWKS cache (auth.jwks_cache_seconds), so that none meets a kid it has not fetched.
    key_publish_lead_seconds: Annotated[int, Field(ge=0)] = 600
    # How often a gateway replica reloads the key ring (another replica may have rotated it).
    key_reload_seconds: Annotated[float, Field(gt=0)] = 60.0
    sms: SmsSettings = Field(default_factory=SmsSettings)


class OidcClient(BaseModel):
    """统分 A city portal registered at the province's gateway (the OpenID Provider)."""

    client_id: Annotated[str, Field(min_length=1, max_length=64)]
    name: str = ""
    # Exact match only (no prefixes, no wildcards): a code goes nowhere else.
    redirect_uris: list[str] = Field(default_factory=list)
    # OpenID Connect Back-Channel Logout 1.0: where the province posts a logout token when a
    # session this portal's sign-ins came from ends (ADR 0116). None: the portal is not told.
    backchannel_logout_uri: str | None = None
    # RP-Initiated Logout 1.0: where the province may send the browser after signing it out.
    post_logout_redirect_uris: list[str] = Field(default_factory=list)


class UpstreamProvider(BaseModel):
    """统分 The province this city portal delegates sign-in to (the relying party's side).

    Its issuer must also be in ``auth.trusted_issuers`` (that is where its keys come from).
    """

    issuer: Annotated[str, Field(min_length=1)]
    # Where the browser is sent (the province's public address).
    authorization_endpoint: str
    # Where this gateway redeems the code (back channel).
    token_endpoint: str
    client_id: Annotated[str, Field(min_length=1, max_length=64)]
    # This portal's callback, as registered at the province.
    redirect_uri: str
    name: str = "省级平台"
    # RP-Initiated Logout 1.0: the province's end_session_endpoint (browser), and where it sends
    # the browser back (registered there). Without it, sign-out ends the local session only.
    end_session_endpoint: str | None = None
    post_logout_redirect_uri: str | None = None
    # The province's sign-up page, linked from the city's (default: ``<issuer>/sign-up``, the
    # issuer being the province portal's URL).
    sign_up_url: str | None = None
    # The province's password-change page, linked from the city's (default: ``<issuer>/me/password``).
    password_url: str | None = None


class PeerPlatform(BaseModel):
    """分建 Another level's platform whose citizens may sign in here (mutual recognition, 互认).

    Its issuer must also be in ``auth.trusted_issuers``.
    """

    issuer: Annotated[str, Field(min_length=1)]
    name: str = ""
    # Its OAuth 2.0 token endpoint: a password this platform does not know is checked there.
    token_endpoint: str
    # Where this platform posts a logout token when one of its own accounts signs out
    # everywhere or changes its password, so that the sessions the peer opened on the strength
    # of that account end too (ADR 0116). None: the peer is not told.
    backchannel_logout_uri: str | None = None


class FederationSettings(BaseModel):
    """Sign-in across platforms of one province, by deployment mode (ADR 0114)."""

    # 统分, at the province: the city portals that may ask it to sign people in.
    clients: list[OidcClient] = Field(default_factory=list)
    # 统分, at a city: the province that holds the accounts.
    upstream: UpstreamProvider | None = None
    # 分建: the other platforms whose accounts are recognised here.
    peers: list[PeerPlatform] = Field(default_factory=list)
    # Authorization codes are good once, for this long (RFC 6749 §4.1.2 advises ≤ 10 minutes).
    code_ttl_seconds: Annotated[int, Field(ge=10, le=600)] = 60
    # A started delegated sign-in (state, nonce, PKCE verifier) is kept this long.
    login_ttl_seconds: Annotated[int, Field(ge=60, le=3600)] = 600
    timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    # Back-channel logout (ADR 0116). A logout token is good this long (``exp``), and a received
    # one is refused when its ``iat`` is older than logout_max_age_seconds.
    logout_token_ttl_seconds: Annotated[int, Field(ge=10, le=600)] = 120
    logout_max_age_seconds: Annotated[int, Field(ge=10, le=3600)] = 300
    # A delivery the receiver did not take (down, 5xx) is tried again with a growing delay
    # (logout_retry_seconds doubled each time, at most logout_retry_max_seconds) and given up
    # after logout_max_attempts (≈ 45 minutes with the defaults); the sessions there still end
    # within their refresh tokens' idle time.
    logout_retry_seconds: Annotated[float, Field(gt=0)] = 2.0
    logout_retry_max_seconds: Annotated[float, Field(gt=0)] = 300.0
    logout_max_attempts: Annotated[int, Field(ge=1)] = 16
    # How often the delivery worker looks for due deliveries.
    logout_poll_seconds: Annotated[float, Field(gt=0)] = 1.0


class Settings(ServiceSettings):
    """互联网政务服务门户 Internet service portal."""

    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_", env_nested_delimiter="__", env_ignore_empty=True, extra="ignore"
    )

    # The portal authenticates people, so it alone holds the private signing key.
    signs_tokens: ClassVar[bool] = True

    service_name: str = "gateway"
    port: int = 8000
    # data-sharing is the system of record for material bytes; the portal only proxies uploads.
    datasharing_url: str = "http://127.0.0.1:8003"
    # management owns the catalogue and renders the 办事指南 PDFs the portal links to.
    management_url: str = "http://127.0.0.1:8001"
    # business owns handling: the applicant's 补正 and 撤回 are forwarded there with their own token.
    business_url: str = "http://127.0.0.1:8002"
    # Checked before streaming so oversized uploads never reach data-sharing (which caps at 20 MiB too).
    max_upload_bytes: Annotated[int, Field(ge=1)] = 20 * 1024 * 1024
    upstream_timeout_seconds: Annotated[float, Field(gt=0)] = 30.0
    upstream_connect_timeout_seconds: Annotated[float, Field(gt=0)] = 5.0
    # 检索词典 additions and replacements on top of the packaged one (docs/search-dictionary.md).
    search_dictionary_path: Path | None = None
    # Answers kept per (query, filters, page) until the index next changes; 0 turns the cache off.
    search_cache_size: Annotated[int, Field(ge=0)] = 1024
    login: LoginThrottleSettings = Field(default_factory=LoginThrottleSettings)
    # The portal's public address: the licence QR codes point at its verification page (证照核验).
    portal_url: str = "http://127.0.0.1:8000"
    # Public lookups (证照核验 page and API, the public 办件进度 page) per client address and minute.
    # The licence QR's token is unguessable; this bounds cost and enumeration attempts.
    public_lookups_per_minute: Annotated[int, Field(ge=1)] = 30
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    federation: FederationSettings = Field(default_factory=FederationSettings)
    # Where a staff member lands after the one sign-in (ADR 0016): management's console.
    console_manage_url: str = "http://127.0.0.1:8001/console/manage/"
    # business's half of the console (待办, 办件, 流程图; ADR 0115): a sign-in may return there too.
    console_handle_url: str = "http://127.0.0.1:8002/console/handle/"


@lru_cache
def get_settings() -> Settings:
    """Return the process's settings, read once from the environment."""
    return Settings()
