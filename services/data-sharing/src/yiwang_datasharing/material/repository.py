"""Queries of the material domain (材料)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_datasharing.material.models import Material, MaterialOwner


class MaterialRepository:
    """Material rows and their owners."""

    async def add_material(self, session: AsyncSession, *, sha256: str, size: int, media_type: str) -> None:
        stmt = insert(Material).values(sha256=sha256, size=size, media_type=media_type)
        await session.execute(stmt.on_conflict_do_nothing(index_elements=["sha256"]))

    async def add_owner(
        self, session: AsyncSession, *, sha256: str, owner_id: str, filename: str | None
    ) -> bool:
        """Link an owner to a material; tell whether the link is new."""
        stmt = (
            insert(MaterialOwner)
            .values(sha256=sha256, owner_id=owner_id, filename=filename)
            .on_conflict_do_nothing(index_elements=["sha256", "owner_id"])
            .returning(MaterialOwner.__table__.c.owner_id)
        )
        return (await session.execute(stmt)).first() is not None

    async def get_for_owner(
        self, session: AsyncSession, *, sha256: str, owner_id: str
    ) -> tuple[Material, str | None] | None:
        stmt = (
            select(Material, MaterialOwner.filename)
            .join(MaterialOwner, MaterialOwner.sha256 == Material.sha256)
            .where(Material.sha256 == sha256, MaterialOwner.owner_id == owner_id)
        )
        row = (await session.execute(stmt)).first()
        return None if row is None else (row[0], row[1])

    async def get_any(self, session: AsyncSession, *, sha256: str) -> tuple[Material, str | None] | None:
        """A material with the file name its first uploader gave (the staff view)."""
        stmt = (
            select(Material, MaterialOwner.filename)
            .outerjoin(MaterialOwner, MaterialOwner.sha256 == Material.sha256)
            .where(Material.sha256 == sha256)
            .order_by(MaterialOwner.created_at)
            .limit(1)
        )
        row = (await session.execute(stmt)).first()
        return None if row is None else (row[0], row[1])


material_repository = MaterialRepository()
