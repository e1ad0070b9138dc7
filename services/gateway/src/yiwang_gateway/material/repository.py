"""Queries on uploaded materials."""

from __future__ import annotations

from collections.abc import Collection
from typing import cast

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert

from yiwang_common.db import utcnow
from yiwang_common.db.repository import RepositoryBase
from yiwang_gateway.material.models import UploadedMaterial
from yiwang_gateway.material.schemas import MaterialUploaded

# Uploading the same content again keeps the first record.
_RECORD = insert(cast(Table, UploadedMaterial.__table__)).on_conflict_do_nothing(
    index_elements=["owner_id", "sha256"]
)


class MaterialRepository(RepositoryBase[UploadedMaterial]):
    """已上传材料 queries."""

    model = UploadedMaterial

    async def record(self, *, owner_id: str, uploaded: MaterialUploaded) -> None:
        """Remember an upload; uploading the same content again keeps the first record."""
        await self.execute(
            _RECORD,
            {
                "owner_id": owner_id,
                "sha256": uploaded.sha256,
                "size": uploaded.size,
                "media_type": uploaded.media_type,
                "filename": uploaded.filename,
                "uploaded_at": utcnow(),
            },
        )

    async def find_owned(self, *, owner_id: str, sha256s: Collection[str]) -> dict[str, UploadedMaterial]:
        if not sha256s:
            return {}
        stmt = self.get_base_statement().where(
            UploadedMaterial.owner_id == owner_id, UploadedMaterial.sha256.in_(set(sha256s))
        )
        return {m.sha256: m for m in await self.get_all(stmt)}
