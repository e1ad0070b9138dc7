"""Blob storage behind a small interface, so object storage can replace the file system later."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

import anyio
import anyio.to_thread

CHUNK = 64 * 1024


class BlobStore(Protocol):
    """Where material bytes live, keyed by their SHA-256 (hex)."""

    async def put(self, sha256: str, data: bytes) -> None:
        """Store ``data`` under ``sha256``; storing the same key again is harmless."""

    def open(self, sha256: str) -> AsyncIterator[bytes]:
        """Stream the bytes stored under ``sha256``."""

    async def exists(self, sha256: str) -> bool:
        """Tell whether ``sha256`` is stored."""


class FileBlobStore:
    """Blobs as files at ``<root>/<sha[:2]>/<sha[2:4]>/<sha>``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    async def exists(self, sha256: str) -> bool:
        return await anyio.Path(self.path(sha256)).is_file()

    async def put(self, sha256: str, data: bytes) -> None:
        if await self.exists(sha256):
            return
        await anyio.to_thread.run_sync(self._write_atomically, self.path(sha256), data)

    @staticmethod
    def _write_atomically(target: Path, data: bytes) -> None:
        # A reader must never see a half-written blob: write aside, fsync, then rename into place.
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    async def open(self, sha256: str) -> AsyncIterator[bytes]:
        async with await anyio.open_file(self.path(sha256), "rb") as fh:
            while chunk := await fh.read(CHUNK):
                yield chunk
