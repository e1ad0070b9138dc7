"""Settings of the management service (environment prefix ``MANAGEMENT_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import SettingsConfigDict

from yiwang_common.config import ServiceSettings


class Settings(ServiceSettings):
    """政务服务管理平台 Service management platform."""

    model_config = SettingsConfigDict(
        env_prefix="MANAGEMENT_", env_nested_delimiter="__", env_ignore_empty=True, extra="ignore"
    )

    service_name: str = "management"
    port: int = 8001
    # CJK TrueType font embedded in PDF guides; unset: the first of guide.rendering.FONT_SEARCH_PATHS.
    guide_font_path: Path | None = None


@lru_cache
def get_settings() -> Settings:
    """Return the process's settings, read once from the environment."""
    return Settings()
