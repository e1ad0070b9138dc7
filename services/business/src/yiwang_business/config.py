"""Settings of the business service (environment prefix ``BUSINESS_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field
from pydantic_settings import SettingsConfigDict

from yiwang_common.config import ServiceSettings


class TimerSettings(BaseModel):
    """定时器巡检 The worker that fires the step timers (``yiwang-business worker``, ADR 0113)."""

    #: One sweep per tick of this many seconds, across every worker replica.
    sweep_interval_seconds: int = Field(default=60, ge=1, le=86_400)
    #: How often a worker looks whether the current tick is swept yet.
    poll_seconds: float = Field(default=5.0, gt=0, le=600)
    #: At most this many timers fire per tick (the rest fire on the next one).
    max_per_tick: int = Field(default=5_000, ge=1, le=1_000_000)


class Settings(ServiceSettings):
    """业务办理系统 Business-handling system."""

    model_config = SettingsConfigDict(
        env_prefix="BUSINESS_", env_nested_delimiter="__", env_ignore_empty=True, extra="ignore"
    )

    service_name: str = "business"
    port: int = 8002
    # The portal the 决定书's QR code points at: the case's public progress page (办件进度).
    portal_url: str = "http://127.0.0.1:8000"
    progress_path: str = "/progress/{case_no}"
    # CJK TrueType font embedded in the PDF documents; None searches Debian's font paths.
    document_font_path: Path | None = None
    # The one staff sign-in (the gateway's page, ADR 0016/0021) and the other console half (management).
    console_sign_in_url: str = "http://127.0.0.1:8000/console/sign-in"
    console_manage_url: str = "http://127.0.0.1:8001/console/manage/"
    timers: TimerSettings = Field(default_factory=TimerSettings)
    # Tasks a process remembers as it wrote them, so that completing one is one statement (ADR 0137);
    # 0 turns it off. About the task and its case's workflow snapshot and form per entry.
    known_tasks: int = Field(default=4096, ge=0)

    def progress_url(self, case_no: str) -> str:
        """The public progress page of a case (办件进度查询), as the QR code encodes it."""
        return self.portal_url.rstrip("/") + self.progress_path.format(case_no=case_no)


@lru_cache
def get_settings() -> Settings:
    """Return the process's settings, read once from the environment."""
    return Settings()
