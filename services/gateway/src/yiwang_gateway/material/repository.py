"""Queries on uploaded materials."""

from __future__ import annotations

from collections.abc import Collection
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.db import utcnow
from yiwang_gateway.material.models import UploadedMaterial
from yiwang_gateway.material.schemas import MaterialUploaded


class MaterialRepository:
    """已上传材料 queries."""

    async def record(self, session: AsyncSession, *, owner_id: str, uploaded: MaterialUploaded) -> None:
        """Remember an upload; uploading the same content again keeps the first record."""
        stmt = insert(cast(Table, UploadedMaterial.__table__)).values(
            owner_id=owner_id,
            sha256=uploaded.sha256,
            size=uploaded.size,
            media_type=uploaded.media_type,
            filename=uploaded.filename,
            uploaded_at=utcnow(),
        )
        await session.execute(stmt.on_conflict_do_nothing(index_elements=["owner_id", "sha256"]))

    async def find_owned(
        self, session: AsyncSession, *, owner_id: str, sha256s: Collection[str]
    ) -> dict[str, UploadedMaterial]:
        if not sha256s:
            return {}
        stmt = select(UploadedMaterial).where(
            UploadedMaterial.owner_id == owner_id, UploadedMaterial.sha256.in_(set(sha256s))
        )
        return {m.sha256: m for m in (await session.execute(stmt)).scalars()}


material_repository = MaterialRepository()
