"""Queries of the material domain (材料)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from yiwang_common.db.repository import RepositoryBase
from yiwang_datasharing.material.models import Material, MaterialOwner


class MaterialRepository(RepositoryBase[Material]):
    """Material rows and their owners (one content, many uploaders)."""

    model = Material

    async def add_material(self, *, sha256: str, size: int, media_type: str) -> None:
        """Record a content once; the same bytes uploaded again change nothing."""
        await self.insert_unless_exists(
            {"sha256": sha256, "size": size, "media_type": media_type}, conflict=["sha256"]
        )

    async def add_owner(self, *, sha256: str, owner_id: str, filename: str | None) -> bool:
        """Link an owner to a material; tell whether the link is new."""
        stmt = (
            insert(MaterialOwner)
            .values(sha256=sha256, owner_id=owner_id, filename=filename)
            .on_conflict_do_nothing(index_elements=["sha256", "owner_id"])
            .returning(MaterialOwner.__table__.c.owner_id)
        )
        return await self.first_row(stmt) is not None

    async def get_for_owner(self, *, sha256: str, owner_id: str) -> tuple[Material, str | None] | None:
        """A material with the file name this owner gave, if they uploaded it."""
        stmt = (
            select(Material, MaterialOwner.filename)
            .join(MaterialOwner, MaterialOwner.sha256 == Material.sha256)
            .where(Material.sha256 == sha256, MaterialOwner.owner_id == owner_id)
        )
        row = (await self.session.execute(stmt)).first()
        return None if row is None else (row[0], row[1])

    async def get_any(self, *, sha256: str) -> tuple[Material, str | None] | None:
        """A material with the file name its first uploader gave (the staff view)."""
        stmt = (
            select(Material, MaterialOwner.filename)
            .outerjoin(MaterialOwner, MaterialOwner.sha256 == Material.sha256)
            .where(Material.sha256 == sha256)
            .order_by(MaterialOwner.created_at)
            .limit(1)
        )
        row = (await self.session.execute(stmt)).first()
        return None if row is None else (row[0], row[1])
