"""The token signing key pair of a development installation.

Outside production, a service with no configured key uses the pair in ``<var_dir>/keys``,
created on first start: every installation (every clone, every ``make clean``) gets its own,
so a token signed on one machine is worthless on another. Production never comes here: its
settings refuse to start without a configured key.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PRIVATE_KEY_FILE = "signing-key.pem"
PUBLIC_KEY_FILE = "signing-key.pub.pem"


def generate_keypair() -> tuple[str, str]:
    """Generate a fresh Ed25519 key pair.

    Returns:
        PEM texts (private PKCS#8, public SubjectPublicKeyInfo).
    """
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return private_pem, public_pem_of(private_pem)


def public_pem_of(private_pem: str) -> str:
    """Return the public key of a private key, as PEM.

    Args:
        private_pem: an Ed25519 private key in PEM.

    Returns:
        Its public key in PEM.

    Raises:
        ValueError: if the text is not an Ed25519 private key.
    """
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the signing key must be an Ed25519 private key")
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def development_keypair(var_dir: Path) -> tuple[str, str]:
    """Return this installation's development key pair, creating it on first use.

    The private key file is created with mode 0600 and never replaced: several services
    starting at once all end up with the one pair that won the race.

    Args:
        var_dir: the installation's local state directory (``var/``).

    Returns:
        PEM texts (private, public).
    """
    keys = Path(var_dir) / "keys"
    private_path = keys / PRIVATE_KEY_FILE
    _create_once(private_path, lambda: generate_keypair()[0])
    private_pem = private_path.read_text()
    public_pem = public_pem_of(private_pem)
    public_path = keys / PUBLIC_KEY_FILE
    if not public_path.exists() or public_path.read_text() != public_pem:
        tmp = keys / f".{PUBLIC_KEY_FILE}.{os.getpid()}"
        tmp.write_text(public_pem)
        os.replace(tmp, public_path)
    return private_pem, public_pem


def _create_once(path: Path, content: Callable[[], str]) -> None:
    """Write a secret file (mode 0600) unless it exists; of racing writers, the first one wins."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.exists():
        return
    tmp = path.parent / f".{path.name}.{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(content())
    # link() fails if another process got there first; its file is then the installation's.
    with contextlib.suppress(FileExistsError):
        os.link(tmp, path)
    tmp.unlink()


def development_public_key(var_dir: Path) -> str:
    """Return this installation's development public key, creating the pair if there is none.

    Services that only verify tokens read the public file and never the private one.

    Args:
        var_dir: the installation's local state directory (``var/``).

    Returns:
        The public key in PEM.
    """
    public_path = Path(var_dir) / "keys" / PUBLIC_KEY_FILE
    if public_path.exists():
        return public_path.read_text()
    return development_keypair(var_dir)[1]
