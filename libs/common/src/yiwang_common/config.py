"""Settings sub-models that every service composes into its own ``BaseSettings``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from yiwang_common.keys import development_keypair, development_public_key

Environment = Literal["development", "test", "production"]

#: Deployment modes of the guideline (§3.5): 分建 split, 统分 semi-unified, 统建 unified.
DeploymentMode = Literal["split", "semi_unified", "unified"]

DEFAULT_VAR_DIR = Path("var")


class DatabaseSettings(BaseModel):
    """Where a service keeps its state.

    ``url`` is a PostgreSQL URL; every table of the service lives in its own schema
    (``schema_name``) of the one database.
    """

    url: str | None = None
    schema_name: str = ""
    pool_size: Annotated[int, Field(ge=1, le=50)] = 10
    echo: bool = False


class NatsSettings(BaseModel):
    """How a service reaches the event bus."""

    url: str = "nats://127.0.0.1:4222"
    # Replicas per stream: 1 on one machine, 3 on a production cluster (JetStream docs advise R3).
    stream_replicas: Annotated[int, Field(ge=1, le=5)] = 1
    # Must exceed the relay's longest retry horizon, or a late re-send becomes a duplicate.
    duplicate_window_seconds: Annotated[int, Field(ge=10)] = 900
    # Bounded redelivery; a message that still fails is parked (dead letter), never retried forever.
    max_deliver: Annotated[int, Field(ge=1)] = 20
    # How soon a message a crashed consumer had fetched is redelivered; live consumers keep
    # long handlers alive with in-progress acks, so this can be short.
    ack_wait_seconds: Annotated[int, Field(ge=1)] = 5
    # Refusals by the server after which the relay parks an outgoing event.
    relay_max_attempts: Annotated[int, Field(ge=1)] = 5


class TrustedIssuer(BaseModel):
    """Another issuer whose tokens this service accepts (统分 delegation, 分建 mutual recognition).

    Its keys come from ``jwks_url`` (fetched and cached); ``jwks`` or ``public_key_pem`` are a
    static fallback for tests and offline development.
    """

    issuer: Annotated[str, Field(min_length=1)]
    jwks_url: str | None = None
    jwks: str = Field(default="", description="A static JWKS document (JSON)")
    public_key_pem: str = ""
    # Audiences accepted from this issuer; None means this service's own ``auth.audience``.
    audiences: list[str] | None = None


class AuthSettings(BaseModel):
    """Token verification (every service) and issuing (the gateway only), ADR 0005 and 0103."""

    issuer: str = "yiwang"
    audience: str = "yiwang"
    # Ed25519 public key in PEM. Empty outside production means: this installation's key pair
    # under var/keys (created on first start). Production refuses to start without one, or
    # without ``jwks_url``.
    public_key_pem: str = ""
    private_key_pem: SecretStr = SecretStr("")
    # The own issuer's JWKS (the gateway's /.well-known/jwks.json): keys are fetched from it,
    # cached, and fetched again when a token names a key id not seen yet.
    jwks_url: str | None = None
    # A static JWKS document (JSON) of the own issuer: tests and offline development.
    jwks: str = ""
    # Other issuers whose tokens are accepted too (issuer → JWKS URL), for 统分 and 分建.
    trusted_issuers: list[TrustedIssuer] = Field(default_factory=list)
    # Access tokens are short-lived: sign-out and password change end a session everywhere
    # within this time, because refresh tokens are revoked at once (ADR 0103).
    token_ttl_seconds: Annotated[int, Field(ge=30, le=3600)] = 300
    # Clock skew allowed between the issuer and the verifying service.
    leeway_seconds: Annotated[int, Field(ge=0, le=300)] = 30
    # A fetched JWKS is used this long before it is fetched again.
    jwks_cache_seconds: Annotated[float, Field(ge=1)] = 300.0
    # At most one fetch per issuer in this interval, however many unknown key ids arrive.
    jwks_min_refresh_seconds: Annotated[float, Field(ge=0)] = 10.0
    jwks_timeout_seconds: Annotated[float, Field(gt=0)] = 3.0

    @property
    def has_verification_keys(self) -> bool:
        """Whether anything tells a verifier which keys its own issuer signs with.

        Other issuers (``trusted_issuers``) do not count: a platform that trusts its province
        still needs its own keys (ADR 0114).
        """
        return bool(self.public_key_pem or self.jwks_url or self.jwks)


class HttpSettings(BaseModel):
    """Limits of what one request may send (ADR 0012)."""

    # JSON bodies: a maximal application (form ≤ 64 KiB serialised, 100 materials) fits with room
    # for \u escapes; routes that take uploads set their own, larger limit.
    max_body_bytes: Annotated[int, Field(ge=1024)] = 512 * 1024


class CalendarSettings(BaseModel):
    """Overrides of the official holiday calendar (法定节假日与调休)."""

    extra_holidays: list[str] = Field(default_factory=list)
    extra_workdays: list[str] = Field(default_factory=list)


class PlatformSettings(BaseModel):
    """Who this platform is: its level, region and deployment mode."""

    # 行政区划代码 of the platform's region (GB/T 2260), e.g. 530428 元江县.
    region_code: Annotated[str, Field(pattern=r"^\d{6}$")] = "530428"
    level: Literal["national", "provincial", "city", "county"] = "county"
    deployment_mode: DeploymentMode = "unified"


class ServiceSettings(BaseSettings):
    """Base for each service's settings.

    Subclasses set ``model_config`` with their own ``env_prefix`` (``MANAGEMENT_`` …) and
    ``service_name``. ``DATABASE_URL`` and ``NATS_URL`` are honoured as suite-wide defaults
    so that one pair of variables points the whole suite at PostgreSQL and a NATS cluster.
    """

    model_config = SettingsConfigDict(env_nested_delimiter="__", env_ignore_empty=True, extra="ignore")

    #: True for the one service that signs tokens (the gateway); the others get only the public key.
    signs_tokens: ClassVar[bool] = False

    service_name: str = "service"
    env: Environment = Field(default="development", validation_alias=AliasChoices("ENV", "YIWANG_ENV"))
    host: str = "127.0.0.1"
    port: int = 8000
    var_dir: Path = Field(default=DEFAULT_VAR_DIR, validation_alias=AliasChoices("YIWANG_VAR_DIR", "var_dir"))
    database_url: str | None = Field(default=None, validation_alias=AliasChoices("DATABASE_URL"))
    nats_url: str | None = Field(default=None, validation_alias=AliasChoices("NATS_URL"))
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    nats: NatsSettings = Field(default_factory=NatsSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    calendar: CalendarSettings = Field(default_factory=CalendarSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    platform: PlatformSettings = Field(default_factory=PlatformSettings)
    # Relay and consumers run inside the API process by default; set false to run them in a worker.
    run_workers: bool = True
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _resolve_defaults(self) -> ServiceSettings:
        schema = self.service_name.replace("-", "")
        if not self.database.schema_name:
            self.database.schema_name = schema
        if self.database.url is None:
            self.database.url = self.database_url
        if self.nats_url and "url" not in self.nats.model_fields_set:
            self.nats.url = self.nats_url
        self._resolve_keys()
        return self

    def _resolve_keys(self) -> None:
        auth = self.auth
        has_private = bool(auth.private_key_pem.get_secret_value())
        if has_private or auth.has_verification_keys:
            # Configured keys are used as given; never mixed with the development pair.
            return
        if self.env == "production":
            prefix = str(self.model_config.get("env_prefix", "")) or "<SERVICE>_"
            wanted = f"{prefix}AUTH__JWKS_URL or {prefix}AUTH__PUBLIC_KEY_PEM"
            if self.signs_tokens:
                wanted = f"{prefix}AUTH__PUBLIC_KEY_PEM and {prefix}AUTH__PRIVATE_KEY_PEM"
            raise ValueError(
                f"生产环境未配置令牌签名密钥，拒绝启动 (production refuses to start without a signing key: "
                f"set {wanted}; auth.public_key_pem is missing)"
            )
        if self.signs_tokens:
            private_pem, public_pem = development_keypair(self.var_dir)
            auth.private_key_pem = SecretStr(private_pem)
            auth.public_key_pem = public_pem
        else:
            auth.public_key_pem = development_public_key(self.var_dir)

    @property
    def db_url(self) -> str:
        """The resolved database URL.

        Raises:
            ValueError: if neither ``DATABASE_URL`` nor ``database.url`` is set.
        """
        if not self.database.url:
            raise ValueError(
                "未配置数据库 (no database configured): set DATABASE_URL=postgresql://…, "
                "or run `make dev`, which starts an embedded PostgreSQL"
            )
        return self.database.url
