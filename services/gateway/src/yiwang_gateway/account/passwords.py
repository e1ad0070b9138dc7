"""口令 Password hashing with argon2id (argon2-cffi), run off the event loop (ADR 0103).

Cost: argon2id, memory 19 MiB (19456 KiB), 2 iterations, 1 lane, 16-byte salt, 32-byte hash:
the first of OWASP's argon2id recommendations (Password Storage Cheat Sheet), a fraction of a
core-second per sign-in (``make bench-identity`` measures it; README gives the numbers). The
parameters are in each hash, so they can be raised later: a sign-in whose stored hash has weaker
parameters, or is one of the scrypt hashes stored before argon2id, is re-hashed on success.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

#: The documented cost; bench/identity.py measures sign-ins at exactly these parameters.
TIME_COST = 2
MEMORY_COST_KIB = 19 * 1024
PARALLELISM = 1
HASHER = PasswordHasher(
    time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM, hash_len=32, salt_len=16
)

_LEGACY_SCHEME = "scrypt"

#: The stored "hash" of a local account that stands for another platform's (统分, 分建): no
#: password verifies against it, and the password is changed at the home platform.
NO_PASSWORD = "!federated"

# Unknown users are checked against this so that timing does not reveal which usernames exist.
_DUMMY_HASH = HASHER.hash("no such account")


def hash_password_sync(password: str) -> str:
    """Hash a password as an argon2id PHC string (``$argon2id$v=19$m=19456,t=2,p=1$…``)."""
    return HASHER.hash(password)


def _verify_legacy(password: str, stored: str) -> bool:
    """The scrypt hashes (``scrypt$n$r$p$salt$hash``) written before argon2id."""
    try:
        _scheme, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=64 * 1024 * 1024,
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def _verify_sync(password: str, stored: str) -> bool:
    if stored.startswith(_LEGACY_SCHEME + "$"):
        return _verify_legacy(password, stored)
    try:
        return HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether a stored hash is older or weaker than the documented cost."""
    if stored.startswith(_LEGACY_SCHEME + "$"):
        return True
    try:
        return HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


async def hash_password(password: str) -> str:
    """Hash a password in a worker thread (argon2id takes tens of milliseconds of one core)."""
    return await anyio.to_thread.run_sync(hash_password_sync, password)


async def verify_password(password: str, stored: str | None) -> bool:
    """Check a password against a stored hash; ``None`` burns the same time and fails."""
    ok = await anyio.to_thread.run_sync(_verify_sync, password, stored or _DUMMY_HASH)
    return ok and stored is not None
