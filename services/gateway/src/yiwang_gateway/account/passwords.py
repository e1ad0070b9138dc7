"""口令 Password hashing with scrypt (stdlib), run off the event loop."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

import anyio.to_thread

_N, _R, _P = 2**14, 8, 1
_DKLEN = 32
_SCHEME = "scrypt"


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=_DKLEN, maxmem=64 * 1024 * 1024)


def hash_password_sync(password: str) -> str:
    """Hash a password as ``scrypt$n$r$p$salt$hash`` (base64), with a random 16-byte salt."""
    salt = os.urandom(16)
    digest = _derive(password, salt, _N, _R, _P)
    b64 = base64.b64encode
    return f"{_SCHEME}${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def _verify_sync(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != _SCHEME:
            return False
        expected = base64.b64decode(digest)
        actual = _derive(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


# Unknown users are checked against this so that timing does not reveal which usernames exist.
_DUMMY_HASH = f"{_SCHEME}${_N}${_R}${_P}${base64.b64encode(b'0' * 16).decode()}${base64.b64encode(b'0' * _DKLEN).decode()}"


async def hash_password(password: str) -> str:
    """Hash a password in a worker thread (scrypt costs ~50 ms of CPU and 16 MiB)."""
    return await anyio.to_thread.run_sync(hash_password_sync, password)


async def verify_password(password: str, stored: str | None) -> bool:
    """Check a password against a stored hash; ``None`` burns the same time and fails."""
    ok = await anyio.to_thread.run_sync(_verify_sync, password, stored or _DUMMY_HASH)
    return ok and stored is not None
