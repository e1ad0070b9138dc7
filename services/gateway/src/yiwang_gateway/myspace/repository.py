"""Queries of my space: the materials an account uploaded (newest first)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row

from yiwang_common.db.repository import RepositoryBase
from yiwang_gateway.material.models import UploadedMaterial


class MySpaceRepository(RepositoryBase[UploadedMaterial]):
    """我的材料 queries (read only: uploads are the material domain's)."""

    model = UploadedMaterial

    async def materials_of(self, owner_id: str, *, page: int, limit: int) -> tuple[Sequence[Row[Any]], int]:
        """One page of an owner's uploads, newest first, and their number."""
        stmt = (
            self.get_base_statement()
            .where(UploadedMaterial.owner_id == owner_id)
            .order_by(UploadedMaterial.uploaded_at.desc(), UploadedMaterial.sha256)
        )
        return await self.paginate(stmt, page=page, limit=limit)
