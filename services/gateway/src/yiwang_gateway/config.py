"""Settings of the gateway service (environment prefix ``GATEWAY_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from yiwang_common.config import ServiceSettings


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
    # Checked before streaming so oversized uploads never reach data-sharing (which caps at 20 MiB too).
    max_upload_bytes: Annotated[int, Field(ge=1)] = 20 * 1024 * 1024
    upstream_timeout_seconds: Annotated[float, Field(gt=0)] = 30.0
    upstream_connect_timeout_seconds: Annotated[float, Field(gt=0)] = 5.0
    # 检索词典 additions and replacements on top of the packaged one (docs/search-dictionary.md).
    search_dictionary_path: Path | None = None


@lru_cache
def get_settings() -> Settings:
    """Return the process's settings, read once from the environment."""
    return Settings()
