"""Settings of the datasharing service (environment prefix ``DATASHARING_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import SettingsConfigDict

from yiwang_common.config import ServiceSettings


class Settings(ServiceSettings):
    """政务服务数据共享平台 Data-sharing platform."""

    model_config = SettingsConfigDict(
        env_prefix="DATASHARING_", env_nested_delimiter="__", env_ignore_empty=True, extra="ignore"
    )

    service_name: str = "datasharing"
    port: int = 8003


@lru_cache
def get_settings() -> Settings:
    """Return the process's settings, read once from the environment."""
    return Settings()
