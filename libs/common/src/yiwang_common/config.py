"""Settings sub-models that every service composes into its own ``BaseSettings``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "test", "production"]

#: Deployment modes of the guideline (§3.5): 分建 split, 统分 semi-unified, 统建 unified.
DeploymentMode = Literal["split", "semi_unified", "unified"]

DEFAULT_VAR_DIR = Path("var")


class DatabaseSettings(BaseModel):
    """Where a service keeps its state.

    ``url`` is an SQLAlchemy async URL. PostgreSQL URLs put every table of the service in
    its own schema (``schema_name``); SQLite URLs use one file per service.
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


class AuthSettings(BaseModel):
    """Token verification (every service) and issuing (the gateway only)."""

    issuer: str = "yiwang"
    audience: str = "yiwang"
    # Ed25519 public key in PEM. Empty in development means: derive the development key pair.
    public_key_pem: str = ""
    private_key_pem: SecretStr = SecretStr("")
    token_ttl_seconds: Annotated[int, Field(ge=60)] = 3600


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
            self.database.url = self.database_url or f"sqlite+aiosqlite:///{self.var_dir / (schema + '.db')}"
        if self.nats_url and "url" not in self.nats.model_fields_set:
            self.nats.url = self.nats_url
        if self.env == "production" and not self.auth.public_key_pem:
            raise ValueError("auth.public_key_pem must be set outside development and test")
        return self

    @property
    def db_url(self) -> str:
        """The resolved database URL (never ``None`` after validation)."""
        assert self.database.url is not None
        return self.database.url
