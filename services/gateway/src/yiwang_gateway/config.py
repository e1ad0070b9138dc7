"""Settings of the gateway service (environment prefix ``GATEWAY_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from yiwang_common.config import ServiceSettings


class Settings(ServiceSettings):
    """互联网政务服务门户 Internet service portal."""

    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_", env_nested_delimiter="__", env_ignore_empty=True, extra="ignore"
    )

    service_name: str = "gateway"
    port: int = 8000


@lru_cache
def get_settings() -> Settings:
    """Return the process's settings, read once from the environment."""
    return Settings()
