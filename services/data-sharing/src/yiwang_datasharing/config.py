"""Settings of the datasharing service (environment prefix ``DATASHARING_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from yiwang_common.config import ServiceSettings

MIB = 1024 * 1024


class Settings(ServiceSettings):
    """政务服务数据共享平台 Data-sharing platform."""

    model_config = SettingsConfigDict(
        env_prefix="DATASHARING_", env_nested_delimiter="__", env_ignore_empty=True, extra="ignore"
    )

    service_name: str = "datasharing"
    port: int = 8003
    # Where material bytes live; None puts them under var_dir so one directory holds all state.
    blob_dir: Path | None = None
    # Hard cap per upload; the body is read in chunks and refused as soon as it passes the cap.
    max_material_bytes: Annotated[int, Field(ge=1)] = 20 * MIB
    # Media types detected from magic bytes that may be stored (PDF, PNG, JPEG, OFD).
    allowed_media_types: list[str] = Field(
        default_factory=lambda: ["application/pdf", "image/png", "image/jpeg", "application/ofd"]
    )

    # 基础库 (docs/base-registries.md): service principals (token sub) and staff roles that may look
    # up; nobody else can (deny by default). Staff must give a reason, which is recorded.
    registry_service_clients: list[str] = Field(default_factory=lambda: ["gateway"])
    registry_staff_roles: list[str] = Field(default_factory=lambda: ["receiver", "acceptor"])
    # Larger files load with ``yiwang-datasharing registry load`` (no request in between).
    max_registry_file_bytes: Annotated[int, Field(ge=1)] = 100 * MIB
    # 证照签名算法: Ed25519 by default; sm2 = SM2 with SM3 (GB/T 32918, through gmssl). Keys of the
    # other algorithm keep verifying what they signed.
    licence_signature_algorithm: Literal["ed25519", "sm2"] = "ed25519"
    # Key encryption key (base64 of 32 bytes) that seals the units' private signing keys; without
    # one, development uses var/keys/licence-kek (production refuses to sign without it).
    licence_key_secret: SecretStr | None = None

    @property
    def blob_path(self) -> Path:
        """The resolved blob directory."""
        return self.blob_dir if self.blob_dir is not None else self.var_dir / "blobs"


@lru_cache
def get_settings() -> Settings:
    """Return the process's settings, read once from the environment."""
    return Settings()
