"""签名密钥轮换 The gateway's signing keys: persisted in its schema, rotated without downtime.

The ring lives in ``gateway.signing_key`` so that every gateway replica signs with the same keys
and a restart keeps them; no other service's schema or settings ever hold a private key. A
rotation (``yiwang-gateway signing-keys rotate`` or ``POST /api/v1/admin/signing-keys``):

1. adds a new key that activates ``identity.key_publish_lead_seconds`` later: it is in the JWKS
   at once, so verifiers that refresh their cache have it before any token names it;
2. gives each older key a ``retire_at`` of that activation plus the longest access-token life
   and the verifiers' leeway: tokens it signed verify until they have expired, then it leaves
   the JWKS.

The configured key (``GATEWAY_AUTH__PRIVATE_KEY_PEM``, in development the installation's pair
in ``var/keys``) seeds the ring. A configured key the ring has never seen is an operator's
rotation without lead (it signs at once, the older keys retire as above).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from yiwang_common.auth import TokenIssuer
from yiwang_common.db import session_scope, utcnow
from yiwang_common.jwks import SigningKey, key_id, private_key_from_pem
from yiwang_common.keys import generate_keypair
from yiwang_gateway.config import Settings
from yiwang_gateway.identity.errors import RotationPending
from yiwang_gateway.identity.models import SigningKeyRecord
from yiwang_gateway.identity.repository import SigningKeyRepository

log = logging.getLogger(__name__)


class KeyRing:
    """Loads, rotates and reloads the keys of the gateway's :class:`TokenIssuer`."""

    def __init__(self, settings: Settings, issuer: TokenIssuer) -> None:
        """Bind the ring to the issuer whose keys it keeps current."""
        self.settings = settings
        self.issuer = issuer
        self._task: asyncio.Task[None] | None = None

    @property
    def _retire_after(self) -> timedelta:
        auth = self.settings.auth
        return timedelta(seconds=auth.token_ttl_seconds + auth.leeway_seconds)

    async def load(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        """Seed the ring with the configured key when it is new, then hand the ring to the issuer."""
        configured = self.settings.auth.private_key_pem.get_secret_value()
        async with session_scope(sessionmaker) as session:
            repo = SigningKeyRepository.from_session(session)
            rows = await repo.ring_for_update()
            if configured:
                key = private_key_from_pem(configured)
                if all(row.kid != key_id(key) for row in rows):
                    now = utcnow()
                    # Replicas starting together on an empty ring all seed the same key: one row.
                    created = await repo.insert_unless_exists(
                        {
                            "kid": key_id(key),
                            "private_pem": configured,
                            "created_at": now,
                            "activate_at": now,
                        },
                        conflict=["kid"],
                    )
                    if created:
                        self._retire_older(rows, at=now)
        await self.reload(sessionmaker)

    async def reload(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        """Read the ring again (another replica may have rotated it)."""
        async with session_scope(sessionmaker) as session:
            rows = await SigningKeyRepository.from_session(session).ring(utcnow())
        if rows:
            self.issuer.set_keys([self._entry(row) for row in rows])

    @staticmethod
    def _entry(row: SigningKeyRecord) -> SigningKey:
        return SigningKey.from_pem(
            row.private_pem,
            activate_at=row.activate_at.timestamp(),
            retire_at=row.retire_at.timestamp() if row.retire_at else None,
        )

    def _retire_older(self, rows: Sequence[SigningKeyRecord], *, at: datetime) -> None:
        for row in rows:
            if row.retire_at is None:
                row.retire_at = at + self._retire_after

    async def rotate(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, lead_seconds: int | None = None
    ) -> SigningKeyRecord:
        """Add a new key that signs after ``lead_seconds`` and retire the others after it.

        Raises:
            RotationPending: if the previous rotation's key has not started signing yet.
        """
        lead = self.settings.identity.key_publish_lead_seconds if lead_seconds is None else lead_seconds
        private_pem, _ = generate_keypair()
        key = private_key_from_pem(private_pem)
        async with session_scope(sessionmaker) as session:
            repo = SigningKeyRepository.from_session(session)
            now = utcnow()
            rows = await repo.ring_for_update()
            if any(row.activate_at > now for row in rows):
                raise RotationPending(
                    "上一次轮换的新密钥尚未启用 (the last rotation's key is not signing yet)"
                )
            activate_at = now + timedelta(seconds=lead)
            self._retire_older(rows, at=activate_at)
            record = await repo.create(
                SigningKeyRecord(kid=key_id(key), private_pem=private_pem, activate_at=activate_at),
                flush=True,
            )
        log.info("signing key rotated", extra={"kid": record.kid, "activate_at": activate_at.isoformat()})
        await self.reload(sessionmaker)
        return record

    async def records(self, sessionmaker: async_sessionmaker[AsyncSession]) -> Sequence[SigningKeyRecord]:
        """Every key still in the JWKS, oldest first."""
        async with session_scope(sessionmaker) as session:
            return await SigningKeyRepository.from_session(session).ring(utcnow())

    def start_reloading(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        """Reload every ``identity.key_reload_seconds`` in the background."""

        async def loop() -> None:
            while True:
                await asyncio.sleep(self.settings.identity.key_reload_seconds)
                try:
                    await self.reload(sessionmaker)
                except Exception:  # a database hiccup must not stop the reloads
                    log.exception("signing key reload failed")

        self._task = asyncio.create_task(loop(), name="signing-key-reload")

    async def stop(self) -> None:
        """Stop the background reloads."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
