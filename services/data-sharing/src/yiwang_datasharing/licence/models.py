"""ORM of the e-licence library (电子证照库), fields after GB/T 36902/36903."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from yiwang_common.db import JSONType, TZDateTime, utcnow
from yiwang_datasharing.db import Base


class ELicenceRecord(Base):
    """电子证照 E-licence; who may read it follows the case (签发证照对应办件编号)."""

    __tablename__ = "e_licence"

    identifier: Mapped[str] = mapped_column(String(128), primary_key=True)
    type_code: Mapped[str] = mapped_column(String(32))
    type_name: Mapped[str] = mapped_column(String(100))
    licence_no: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(8))
    holder_name: Mapped[str] = mapped_column(String(200))
    holder_code: Mapped[str] = mapped_column(String(64))
    holder_code_type: Mapped[str] = mapped_column(String(8))
    issuer_name: Mapped[str] = mapped_column(String(200))
    issuer_code: Mapped[str] = mapped_column(String(32))
    issued_on: Mapped[date] = mapped_column(Date)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    jurisdiction_code: Mapped[str] = mapped_column(String(12))
    trust_level: Mapped[str] = mapped_column(String(1))
    case_no: Mapped[str] = mapped_column(String(32), index=True)
    item_code: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # 证照状态: valid 有效 / suspended 暂停 / revoked 撤销 (expired 失效 follows valid_until, never stored).
    status: Mapped[str] = mapped_column(String(16), default="valid")
    registered_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    # 用证码 Verification token in the QR code: random, so the QR never hands out the sequential number.
    verification_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # 签名件: the canonical (RFC 8785) payload exactly as signed, and its signature (licence/signing.py).
    signed_payload: Mapped[str | None] = mapped_column(Text)
    signature_alg: Mapped[str | None] = mapped_column(String(16))
    signature_kid: Mapped[str | None] = mapped_column(String(64))
    signature_value: Mapped[str | None] = mapped_column(Text)
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None] = mapped_column(TZDateTime())


class LicenceType(Base):
    """证照目录 Licence catalogue entry (GB/T 36902 目录信息)."""

    __tablename__ = "licence_type"

    code: Mapped[str] = mapped_column(String(21), primary_key=True)  # 证照类型代码
    name: Mapped[str] = mapped_column(String(100))  # 证照类型名称
    category: Mapped[str] = mapped_column(String(8), default="证照")  # 证照/批文/证明/材料/证件
    defining_org_name: Mapped[str] = mapped_column(String(200))  # 证照定义机构
    defining_org_code: Mapped[str] = mapped_column(String(18))  # 证照定义机构代码
    defining_level: Mapped[str] = mapped_column(String(8))  # 证照定义机构级别
    issuing_level: Mapped[str] = mapped_column(String(8))  # 证照颁发机构级别
    holder_category: Mapped[str] = mapped_column(String(16))  # 持证主体类别: 自然人/法人/…
    # 有效期限范围 in days; None is 长期 (no end).
    validity_days: Mapped[int | None] = mapped_column(Integer)
    # 照面信息项: [{"key", "name", "required"}].
    data_items: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)


class SigningKey(Base):
    """签发单位签名密钥 One issuing unit's signing key; retired keys stay to verify what they signed."""

    __tablename__ = "licence_signing_key"
    # One key in use per unit and algorithm; a rotation retires it and adds the next.
    __table_args__ = (
        Index(
            "uq_licence_signing_key_active",
            "org_code",
            "algorithm",
            unique=True,
            postgresql_where=text("retired_at IS NULL"),
        ),
    )

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_code: Mapped[str] = mapped_column(String(32), index=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[str] = mapped_column(Text)  # hex: Ed25519 raw 32 bytes / SM2 uncompressed x‖y
    sealed_private_key: Mapped[bytes] = mapped_column(LargeBinary)  # AES-256-GCM under the KEK
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(TZDateTime())
