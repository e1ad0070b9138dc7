"""Every query of the organisation domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select

from yiwang_common.db.repository import RepositoryBase
from yiwang_management.organisation.models import Department, Post, Region, StaffMember, StaffPost


class RegionRepository(RepositoryBase[Region]):
    """行政区划."""

    model = Region

    async def listed(self, prefix: str) -> Sequence[Region]:
        """Regions whose code starts with ``prefix``, by code."""
        return await self.get_all(
            self.get_base_statement()
            .where(Region.code.startswith(prefix, autoescape=True))
            .order_by(Region.code)
        )


class DepartmentRepository(RepositoryBase[Department]):
    """部门."""

    model = Department

    async def listed(self, prefix: str, *, region_code: str | None) -> Sequence[Department]:
        """Departments of the regions under ``prefix`` (optionally one region), by region and name."""
        statement = self.get_base_statement().where(
            Department.region_code.startswith(prefix, autoescape=True)
        )
        if region_code is not None:
            statement = statement.where(Department.region_code == region_code)
        return await self.get_all(statement.order_by(Department.region_code, Department.name))


class PostRepository(RepositoryBase[Post]):
    """窗口 / 岗位."""

    model = Post

    async def of_department(self, org_code: str) -> Sequence[Post]:
        """A department's posts, by code."""
        return await self.get_all(
            self.get_base_statement().where(Post.org_code == org_code).order_by(Post.code)
        )

    async def by_code(self, org_code: str, code: str) -> Post | None:
        """One post by its department and code."""
        return await self.get_one_or_none(
            self.get_base_statement().where(Post.org_code == org_code, Post.code == code)
        )

    async def many(self, ids: Sequence[uuid.UUID]) -> Sequence[Post]:
        """The posts with these ids (the unknown ones are missing from the answer)."""
        if not ids:
            return []
        return await self.get_all(self.get_base_statement().where(Post.id.in_(ids)).order_by(Post.code))


class StaffRepository(RepositoryBase[StaffMember]):
    """工作人员 and the posts they hold."""

    model = StaffMember

    async def by_username(self, username: str) -> StaffMember | None:
        """A staff member by their gateway user name."""
        return await self.get_one_or_none(self.get_base_statement().where(StaffMember.username == username))

    async def locked(self, staff_id: uuid.UUID) -> StaffMember | None:
        """A staff member, locked for the change of their posts (versions stay in order)."""
        return await self.get_one_or_none(
            self.get_base_statement().where(StaffMember.id == staff_id).with_for_update()
        )

    async def listed(
        self, prefix: str, *, org_code: str | None, offset: int, limit: int
    ) -> tuple[Sequence[tuple[StaffMember, str]], int]:
        """One page of the staff of the regions under ``prefix``, with each one's region, and the total."""
        statement: Any = (
            select(StaffMember, Department.region_code)
            .join(Department, Department.org_code == StaffMember.org_code)
            .where(Department.region_code.startswith(prefix, autoescape=True))
        )
        if org_code is not None:
            statement = statement.where(StaffMember.org_code == org_code)
        page: tuple[Sequence[Any], int] = await self.paginate(
            statement.order_by(StaffMember.org_code, StaffMember.username),
            page=offset // limit + 1,
            limit=limit,
        )
        return [(row[0], row[1]) for row in page[0]], page[1]

    async def posts_of(self, staff_ids: Sequence[uuid.UUID]) -> Sequence[tuple[uuid.UUID, Post]]:
        """The posts each of these staff members holds."""
        if not staff_ids:
            return []
        statement: Any = (
            select(StaffPost.staff_id, Post)
            .join(Post, Post.id == StaffPost.post_id)
            .where(StaffPost.staff_id.in_(staff_ids))
            .order_by(Post.code)
        )
        rows: Sequence[Any] = await self.rows(statement)
        return [(row[0], row[1]) for row in rows]

    async def set_posts(self, staff_id: uuid.UUID, post_ids: Sequence[uuid.UUID]) -> None:
        """Replace the posts a staff member holds."""
        await self.execute(delete(StaffPost).where(StaffPost.staff_id == staff_id))
        if post_ids:
            await self.execute(insert(StaffPost), [{"staff_id": staff_id, "post_id": p} for p in post_ids])
