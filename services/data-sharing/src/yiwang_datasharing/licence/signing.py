"""证照签名 Licence signatures: canonical JSON (RFC 8785), Ed25519 or SM2-with-SM3, sealed private keys.

What is signed is the JCS (RFC 8785) form of ``{"protected": {alg, kid, signed_at}, "licence": …}``:
one byte string for one licence whatever the key order or whitespace it travelled in. The key id
and the algorithm sit inside the signed bytes (as in a JWS protected header), so neither can be
swapped without breaking the signature. A document is accepted only when its bytes are already
canonical, so changing any byte, even one that would parse to the same value, fails.

Private keys never leave this service: they are stored sealed with AES-256-GCM under a key
encryption key (KEK) from the settings, or in development one created in ``var/keys`` (as
``yiwang_common.keys`` does for the token key).
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import orjson
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from gmssl import sm2

Algorithm = Literal["ed25519", "sm2"]
#: Names in the signature, as JOSE (RFC 8037) and GB/T 38540 (SM3withSM2, 1.2.156.10197.1.501) spell them.
ALGORITHM_NAMES: dict[Algorithm, str] = {"ed25519": "Ed25519", "sm2": "SM2-SM3"}
_BY_NAME: dict[str, Algorithm] = {v: k for k, v in ALGORITHM_NAMES.items()}
#: The SM2 default user id (GB/T 35276 §5.2: 1234567812345678) that enters Z_A.
_SM2_N = int(sm2.default_ecc_table["n"], 16)
_KEK_FILE = "licence-kek"


def canonical(value: Any) -> bytes:
    """RFC 8785 canonical JSON of a JSON value (sorted keys, no whitespace, ECMAScript numbers)."""
    return rfc8785.dumps(value)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class KeyPair(Protocol):
    """A signing key of one algorithm."""

    algorithm: Algorithm

    def sign(self, message: bytes) -> bytes: ...
    def private_bytes(self) -> bytes: ...
    def public_text(self) -> str: ...


class Ed25519Key:
    """Ed25519 (RFC 8032) through ``cryptography``."""

    algorithm: Algorithm = "ed25519"

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key

    @classmethod
    def generate(cls) -> Ed25519Key:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_private(cls, raw: bytes) -> Ed25519Key:
        return cls(Ed25519PrivateKey.from_private_bytes(raw))

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def private_bytes(self) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )

    def public_text(self) -> str:
        raw = self._key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return raw.hex()


def _sm2_crypt(private_hex: str, public_hex: str) -> sm2.CryptSM2:
    """A gmssl context holding ``public_hex`` (x‖y, 128 hex digits) exactly as given.

    gmssl's constructor drops a "04" point prefix with ``str.lstrip("04")``, which strips every
    leading '0' and '4': a key whose x coordinate begins with "04" (one in 256) lost digits and
    every signature made or checked with it failed. Setting the attribute afterwards skips that.
    """
    crypt = sm2.CryptSM2(private_key=private_hex, public_key="")
    crypt.public_key = (
        public_hex[2:] if len(public_hex) == 130 and public_hex.startswith("04") else public_hex
    )
    return crypt


class Sm2Key:
    """SM2 with SM3 (GB/T 32918, Z_A with the default user id) through ``gmssl``.

    gmssl's own nonce comes from ``random`` (not a CSPRNG); a predictable k gives the private key
    away, so every signature draws k from ``secrets`` here.
    """

    algorithm: Algorithm = "sm2"

    def __init__(self, private_hex: str) -> None:
        self._private = private_hex
        # gmssl exposes key derivation only as _kg (d·G); it is the library's own point multiply.
        public = sm2.CryptSM2(private_key=private_hex, public_key="")._kg(
            int(private_hex, 16), sm2.default_ecc_table["g"]
        )
        self._public = public
        self._crypt = _sm2_crypt(private_hex, public)

    @classmethod
    def generate(cls) -> Sm2Key:
        return cls(f"{secrets.randbelow(_SM2_N - 2) + 1:064x}")

    @classmethod
    def from_private(cls, raw: bytes) -> Sm2Key:
        return cls(raw.hex())

    def sign(self, message: bytes) -> bytes:
        k = f"{secrets.randbelow(_SM2_N - 2) + 1:064x}"
        return bytes.fromhex(self._crypt.sign_with_sm3(message, k))

    def private_bytes(self) -> bytes:
        return bytes.fromhex(self._private)

    def public_text(self) -> str:
        return str(self._public)


def generate_key(algorithm: Algorithm) -> KeyPair:
    """A fresh key pair of ``algorithm``."""
    return Ed25519Key.generate() if algorithm == "ed25519" else Sm2Key.generate()


def load_key(algorithm: Algorithm, raw: bytes) -> KeyPair:
    """The key pair from its raw private bytes."""
    return Ed25519Key.from_private(raw) if algorithm == "ed25519" else Sm2Key.from_private(raw)


def verify_raw(algorithm: Algorithm, public_text: str, message: bytes, signature: bytes) -> bool:
    """Check one signature over ``message`` with a public key as stored (hex)."""
    if algorithm == "ed25519":
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_text)).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True
    if len(signature) != 64:
        return False
    crypt = _sm2_crypt("", public_text)
    # gmssl's pure-Python arithmetic on a garbage signature may raise anything: that is a "no".
    try:
        return bool(crypt.verify_with_sm3(signature.hex(), message))
    except Exception:
        return False


@dataclass(frozen=True)
class SignedLicence:
    """证照签名件 The signed document: canonical payload bytes (as text) and the signature."""

    payload: str
    algorithm: str
    kid: str
    value: str

    def as_json(self) -> dict[str, Any]:
        return {
            "payload": self.payload,
            "signature": {"alg": self.algorithm, "kid": self.kid, "value": self.value},
        }


def sign_licence(licence: dict[str, Any], key: KeyPair, *, kid: str, signed_at: str) -> SignedLicence:
    """Canonicalise the licence with its protected header and sign the bytes."""
    alg = ALGORITHM_NAMES[key.algorithm]
    payload = canonical({"protected": {"alg": alg, "kid": kid, "signed_at": signed_at}, "licence": licence})
    return SignedLicence(payload=payload.decode(), algorithm=alg, kid=kid, value=b64(key.sign(payload)))


@dataclass(frozen=True)
class Checked:
    """What a signature check found: the licence it vouches for, or None when it does not hold."""

    licence: dict[str, Any] | None
    kid: str | None


def parse_document(payload: str, algorithm: str, kid: str) -> tuple[dict[str, Any], Algorithm] | None:
    """The payload's licence and algorithm, if the payload is canonical and names ``kid``/``algorithm``."""
    raw = payload.encode()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    try:
        # A value JCS cannot represent (an integer past 2^53, …) is no document of ours.
        if not isinstance(body, dict) or canonical(body) != raw:
            return None
    except rfc8785.CanonicalizationError:
        return None
    protected, licence = body.get("protected"), body.get("licence")
    if not isinstance(protected, dict) or not isinstance(licence, dict):
        return None
    alg = _BY_NAME.get(algorithm)
    if alg is None or protected.get("alg") != algorithm or protected.get("kid") != kid:
        return None
    return licence, alg


def check_signature(document: SignedLicence, public_text: str | None) -> Checked:
    """Verify a signed document against the public key of its ``kid`` (None: unknown key)."""
    parsed = parse_document(document.payload, document.algorithm, document.kid)
    if parsed is None or public_text is None:
        return Checked(licence=None, kid=document.kid)
    licence, alg = parsed
    try:
        signature = unb64(document.value)
    except ValueError:
        return Checked(licence=None, kid=document.kid)
    # Base64 has slack bits: only the one canonical spelling of the signature is accepted.
    if b64(signature) != document.value:
        return Checked(licence=None, kid=document.kid)
    if not verify_raw(alg, public_text, document.payload.encode(), signature):
        return Checked(licence=None, kid=document.kid)
    return Checked(licence=licence, kid=document.kid)


class KeySealer:
    """Seals private keys with AES-256-GCM under the KEK; the key id is the associated data."""

    def __init__(self, kek: bytes) -> None:
        if len(kek) != 32:
            raise ValueError("the licence key encryption key must be 32 bytes")
        self._aead = AESGCM(kek)

    def seal(self, kid: str, private: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, private, kid.encode())

    def open(self, kid: str, sealed: bytes) -> bytes:
        return self._aead.decrypt(sealed[:12], sealed[12:], kid.encode())


def development_kek(var_dir: Path) -> bytes:
    """This installation's KEK in ``var/keys``, created (mode 0600) on first use and never replaced."""
    keys = Path(var_dir) / "keys"
    keys.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = keys / _KEK_FILE
    if not path.exists():
        tmp = keys / f".{_KEK_FILE}.{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(os.urandom(32))
        # As yiwang_common.keys: link() fails if another process won the race; its KEK is kept.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
        tmp.unlink()
    return path.read_bytes()
