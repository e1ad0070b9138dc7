"""Settings of the management service (environment prefix ``MANAGEMENT_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
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


class PaymentSettings(BaseModel):
    """缴费 (``MANAGEMENT_PAYMENT__*``): the channel, its notification secret, the pages it returns to."""

    #: 支付渠道: only the sandbox ships (a real channel implements payment.provider.PaymentProvider).
    provider: Literal["sandbox"] = "sandbox"
    #: HMAC key of the sandbox's notifications (set a secret of your own outside development).
    sandbox_secret: SecretStr = SecretStr("yiwang-sandbox-development-secret")
    #: Where the provider sends its notifications: this service's notification endpoint.
    notify_url: str = "http://127.0.0.1:8001/api/v1/payments/notifications/sandbox"
    #: The cashier page where the applicant pays: the portal's sandbox page, on the portal's origin
    #: (the portal redirects to it; a real provider's cashier is an absolute URL of its own).
    cashier_url: str = "/pay/sandbox/{provider_order_id}"
    #: Where the applicant comes back to after paying: the portal's page of the case's fee.
    return_url: str = "/me/cases/{case_no}/payment"
    #: A notification signed longer ago than this is refused (replays of old ones).
    signature_tolerance_s: int = Field(default=600, ge=1, le=86_400)
    #: The sandbox sends each notification this many times at most until answered.
    notify_attempts: int = Field(default=5, ge=0, le=20)
    #: 票据 numbers begin with this (电子票据号).
    receipt_prefix: str = Field(default="PJ", max_length=8)


class DeliverySettings(BaseModel):
    """送达 (``MANAGEMENT_DELIVERY__*``): the limit from the decision (seed rules §4.1, five days)."""

    #: 自作出决定之日起五日内: working days from the decision.
    limit_days: int = Field(default=5, ge=1, le=30)


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
    payment: PaymentSettings = Field(default_factory=PaymentSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
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
