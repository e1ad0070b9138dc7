"""JSON Web Keys (RFC 7517) with joserfc: an issuer's signing keys and the key sets a verifier trusts.

An issuer publishes its public keys as a JWKS; every key carries a ``kid`` (its RFC 7638
thumbprint) and every token names the key that signed it. A verifier keeps the keys of each
issuer it trusts: fetched over HTTP from the issuer's ``jwks_uri`` and cached, fetched again when
a token names a key id it has not seen (at most once per ``min_refresh_seconds``, so forged key
ids cannot make it hammer the issuer), with an optional static set for tests and offline use.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

log = logging.getLogger(__name__)

#: The only signature algorithm: Ed25519, by its fully-specified name (RFC 9864 deprecates
#: the polymorphic "EdDSA"). Tokens naming another algorithm are refused before any key is used.
ALGORITHM = "Ed25519"

#: At most this many keys are taken from one JWKS document (a rotation needs three at most).
MAX_KEYS = 20


def key_id(key: OKPKey) -> str:
    """The key's id: its RFC 7638 thumbprint, the same wherever the key is loaded."""
    return str(key.thumbprint())


def public_jwk(key: OKPKey) -> dict[str, Any]:
    """The public half of a key as a JWK with ``kid``, ``alg`` and ``use``.

    Args:
        key: an Ed25519 key (private or public).

    Returns:
        The JWK members.
    """
    return {**key.as_dict(private=False), "kid": key_id(key), "alg": ALGORITHM, "use": "sig"}


def private_key_from_pem(pem: str) -> OKPKey:
    """Load an Ed25519 private key from PEM.

    Raises:
        ValueError: if the text is not an Ed25519 private key.
    """
    try:
        key = OKPKey.import_key(pem)
    except (JoseError, ValueError, TypeError) as exc:
        raise ValueError("the signing key must be an Ed25519 private key in PEM") from exc
    if key.curve_name != "Ed25519" or not key.is_private:
        raise ValueError("the signing key must be an Ed25519 private key in PEM")
    return key


def public_keys(*, pem: str = "", jwks: str | Mapping[str, Any] = "") -> dict[str, OKPKey]:
    """Public keys by ``kid`` from a PEM and/or a JWKS document.

    Args:
        pem: an Ed25519 public (or private) key in PEM.
        jwks: a JWKS document, as JSON text or parsed.

    Returns:
        The keys, by key id.

    Raises:
        ValueError: if the PEM is not an Ed25519 key or the JWKS is not a key set.
    """
    keys: dict[str, OKPKey] = {}
    if pem:
        try:
            key = OKPKey.import_key(pem)
        except (JoseError, ValueError, TypeError) as exc:
            raise ValueError("auth.public_key_pem must be an Ed25519 public key") from exc
        if key.curve_name != "Ed25519":
            raise ValueError("auth.public_key_pem must be an Ed25519 public key")
        public = OKPKey.import_key(key.as_dict(private=False))
        keys[key_id(public)] = public
    if jwks:
        document = json.loads(jwks) if isinstance(jwks, str) else jwks
        keys.update(keys_of_document(document))
    return keys


def keys_of_document(document: Any) -> dict[str, OKPKey]:
    """The Ed25519 signing keys of a JWKS document, by ``kid``; other keys are skipped.

    Raises:
        ValueError: if the document is not ``{"keys": [...]}``.
    """
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("a JWKS document is an object with a list of keys")
    keys: dict[str, OKPKey] = {}
    for item in document["keys"][:MAX_KEYS]:
        if not isinstance(item, dict) or item.get("kty") != "OKP" or item.get("crv") != "Ed25519":
            continue
        if item.get("use", "sig") != "sig" or item.get("alg", ALGORITHM) != ALGORITHM:
            continue
        try:
            key = OKPKey.import_key({k: v for k, v in item.items() if k in ("kty", "crv", "x")})
        except (JoseError, ValueError, TypeError):
            continue
        # The id the issuer gave wins: tokens name the key by it.
        keys[str(item.get("kid") or key_id(key))] = key
    return keys


@dataclass(frozen=True)
class SigningKey:
    """One key of an issuer's key ring (签名密钥).

    Attributes:
        key: the Ed25519 private key.
        activate_at: epoch seconds from which it signs (it is published before).
        retire_at: epoch seconds after which it leaves the JWKS (None: not retiring).
    """

    key: OKPKey
    activate_at: float = 0.0
    retire_at: float | None = None

    @property
    def kid(self) -> str:
        """The key id (RFC 7638 thumbprint)."""
        return key_id(self.key)

    @classmethod
    def from_pem(cls, pem: str, *, activate_at: float = 0.0, retire_at: float | None = None) -> SigningKey:
        """Load a key ring entry from a PEM private key."""
        return cls(private_key_from_pem(pem), activate_at, retire_at)

    def published(self, now: float) -> bool:
        """Whether the JWKS lists the key at ``now``."""
        return self.retire_at is None or now < self.retire_at


class KeySource(Protocol):
    """Where a verifier finds one issuer's public keys."""

    def get(self, kid: str) -> OKPKey | None:
        """The key with this id among those already known (no I/O)."""

    async def aget(self, kid: str) -> OKPKey | None:
        """The key with this id, fetching the issuer's JWKS again if needed."""

    async def aclose(self) -> None:
        """Release connections."""


class StaticKeys:
    """A fixed key set (configured PEM or JWKS)."""

    def __init__(self, keys: Mapping[str, OKPKey]) -> None:
        """Keep the keys."""
        self._keys = dict(keys)

    def get(self, kid: str) -> OKPKey | None:
        """The key with this id."""
        return self._keys.get(kid)

    async def aget(self, kid: str) -> OKPKey | None:
        """The key with this id."""
        return self._keys.get(kid)

    async def aclose(self) -> None:
        """Nothing to release."""


class LocalKeys:
    """The issuer's own key ring, read in process (the gateway verifies its tokens without HTTP)."""

    def __init__(self, keys: Callable[[], Mapping[str, OKPKey]], fallback: Mapping[str, OKPKey]) -> None:
        """Read keys from ``keys()`` on every lookup; ``fallback`` are the configured ones."""
        self._keys = keys
        self._fallback = dict(fallback)

    def get(self, kid: str) -> OKPKey | None:
        """The key with this id in the ring, else among the configured ones."""
        return self._keys().get(kid) or self._fallback.get(kid)

    async def aget(self, kid: str) -> OKPKey | None:
        """The key with this id."""
        return self.get(kid)

    async def aclose(self) -> None:
        """Nothing to release."""


class RemoteJwks:
    """One issuer's JWKS, fetched over HTTP and cached.

    The cached set is used for ``cache_seconds``; after that, or when a token names an unknown
    key id, the next lookup fetches it again, but never twice within ``min_refresh_seconds``.
    A failed fetch keeps the keys known so far (the issuer being down must not sign everyone out).
    """

    def __init__(
        self,
        url: str,
        *,
        cache_seconds: float,
        min_refresh_seconds: float,
        timeout_seconds: float,
        static: Mapping[str, OKPKey] | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        """Prepare the cache; nothing is fetched until the first lookup."""
        self.url = url
        self._cache_seconds = cache_seconds
        self._min_refresh = min_refresh_seconds
        self._timeout = timeout_seconds
        self._static = dict(static or {})
        self._fetched: dict[str, OKPKey] = {}
        self._fetched_at: float | None = None
        self._last_attempt: float | None = None
        self._client = client
        self._own_client = client is None
        self._lock = asyncio.Lock()
        #: Fetches made (tests and metrics read it).
        self.fetches = 0

    def get(self, kid: str) -> OKPKey | None:
        """The key among those fetched so far, else the static ones."""
        return self._fetched.get(kid) or self._static.get(kid)

    def _may_fetch(self, now: float) -> bool:
        if self._last_attempt is None:
            return True
        # Until a first fetch succeeds (services start before the issuer), retry every second.
        interval = self._min_refresh if self._fetched_at is not None else min(1.0, self._min_refresh)
        return now - self._last_attempt >= interval

    def _stale(self, now: float) -> bool:
        return self._fetched_at is None or now - self._fetched_at >= self._cache_seconds

    async def aget(self, kid: str) -> OKPKey | None:
        """The key with this id, fetching the JWKS when stale or when the id is unknown."""
        now = time.monotonic()
        if self._stale(now) or self.get(kid) is None:
            # A fetch already under way counts as this lookup's fetch: wait for it rather than
            # answer "unknown key" from the old set (a burst of first requests after start-up or a
            # key rotation would otherwise be refused while one of them fetches).
            if self._may_fetch(now) or self._lock.locked():
                async with self._lock:
                    # Another request may have fetched while this one waited for the lock.
                    if self._may_fetch(time.monotonic()):
                        await self.refresh()
        return self.get(kid)

    async def refresh(self) -> None:
        """Fetch the JWKS now; on failure keep what is known and log it."""
        self._last_attempt = time.monotonic()
        self.fetches += 1
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout)
        try:
            response = await self._client.get(self.url, headers={"Accept": "application/json"})
            response.raise_for_status()
            keys = keys_of_document(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("JWKS fetch failed", extra={"url": self.url, "error": str(exc)})
            return
        self._fetched = keys
        self._fetched_at = time.monotonic()

    async def aclose(self) -> None:
        """Close the HTTP client this cache opened."""
        if self._own_client and self._client is not None:
            await self._client.aclose()
            self._client = None
