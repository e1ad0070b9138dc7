"""Settings of the business service (environment prefix ``BUSINESS_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from yiwang_common.config import ServiceSettings


class Settings(ServiceSettings):
    """业务办理系统 Business-handling system."""

    model_config = SettingsConfigDict(
        env_prefix="BUSINESS_", env_nested_delimiter="__", env_ignore_empty=True, extra="ignore"
    )

    service_name: str = "business"
    port: int = 8002


@lru_cache
def get_settings() -> Settings:
    """Return the process's settings, read once from the environment."""
    return Settings()
