"""Settings of the management service (environment prefix ``MANAGEMENT_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import SettingsConfigDict

from yiwang_common.config import ServiceSettings


class SupervisionSettings(BaseModel):
    """电子监察 defaults (``MANAGEMENT_SUPERVISION__*``); an item's 监察规则 overrides the thresholds."""

    #: 预警 this many working days before a case's promised due date.
    warn_days: int = Field(default=2, ge=0, le=60)
    #: 预警 this many working days before a step's due date.
    step_warn_days: int = Field(default=1, ge=0, le=60)
    #: 延期 at most this many working days, once per case (seed rules §2.5: one extension of 10 days).
    max_extension_days: int = Field(default=10, ge=1, le=60)
    #: One sweep per tick of this many seconds, across every worker replica.
    sweep_interval_seconds: int = Field(default=60, ge=1, le=86_400)
    #: How often a worker looks whether the current tick still needs a sweep.
    poll_seconds: float = Field(default=5.0, gt=0, le=600)
    #: How often an API process re-reads the loaded holiday schedules (another replica may load one).
    calendar_refresh_seconds: float = Field(default=60.0, gt=0, le=3600)


class Settings(ServiceSettings):
    """政务服务管理平台 Service management platform."""

    model_config = SettingsConfigDict(
        env_prefix="MANAGEMENT_", env_nested_delimiter="__", env_ignore_empty=True, extra="ignore"
    )

    service_name: str = "management"
    port: int = 8001
    # CJK TrueType font embedded in PDF guides; unset: the first of yiwang_common.documents.FONT_SEARCH_PATHS.
    guide_font_path: Path | None = None
    # The portal the notices' QR codes point at: the case's public progress page (办件进度).
    portal_url: str = "http://127.0.0.1:8000"
    progress_path: str = "/progress/{case_no}"
    # The one staff sign-in (ADR 0016) is the token issuer's page: the gateway's today.
    console_sign_in_url: str = "http://127.0.0.1:8000/console/sign-in"
    #: 演示目录: ``full`` loads the ~100 real items of three levels (ADR 0018); ``minimal`` only the
    #: three 元江县住建局 items, for tests that count what a search of the demo finds.
    demo_catalogue: Literal["full", "minimal"] = "full"
    supervision: SupervisionSettings = Field(default_factory=SupervisionSettings)
    #: 导入任务: every process works the spreadsheet import queue in the background (ADR 0102).
    import_worker: bool = True
    #: A running import whose heartbeat is older than this is taken back and resumed (lease).
    import_lease_s: float = 30.0
    import_heartbeat_s: float = 2.0
    import_poll_s: float = 2.0
    #: Tries of a job whose worker keeps dying before it is marked failed.
    import_max_attempts: int = 3

    def progress_url(self, case_no: str) -> str:
        """The public progress page of a case (办件进度查询), as the notices' QR codes encode it."""
        return self.portal_url.rstrip("/") + self.progress_path.format(case_no=case_no)


@lru_cache
def get_settings() -> Settings:
    """Return the process's settings, read once from the environment."""
    return Settings()
