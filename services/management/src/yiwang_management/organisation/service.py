"""Rules of the organisation tree and of staff posts; one unit of work per request.

An administrator (中心管理员) manages the part of the tree inside their own region: regions,
departments and posts below it, and the staff of those departments. Changing a staff member's
posts emits ``StaffAssigned`` (the gateway updates the account, so the next token carries the
roles, unit and region) and an audit record (权限变更) in the same unit of work.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.access import covers, region_of, region_prefix
from yiwang_common.audit import PERMISSION_CHANGED, record_audit
from yiwang_common.auth import Principal
from yiwang_common.contracts.codes import ExerciseLevel, region_level
from yiwang_common.db import utcnow
from yiwang_common.events import enqueue
from yiwang_management.db import messaging
from yiwang_management.organisation import events
from yiwang_management.organisation.errors import (
    DepartmentExists,
    DepartmentNotFound,
    LevelMismatch,
    OutsideRegion,
    PostExists,
    PostNotFound,
    PostNotInDepartment,
    RegionExists,
    RegionNotFound,
    RegionParentMissing,
    StaffExists,
    StaffNotFound,
)
from yiwang_management.organisation.models import Department, Post, Region, StaffMember
from yiwang_management.organisation.repository import (
    DepartmentRepository,
    PostRepository,
    RegionRepository,
    StaffRepository,
)
from yiwang_management.organisation.schemas import (
    LEVEL_NAMES,
    DepartmentCreate,
    DepartmentView,
    PostCreate,
    PostView,
    RegionCreate,
    RegionView,
    StaffCreate,
    StaffView,
)

#: The levels a department of a region may sit at: a GB/T 2260 code stops at the county, so
#: 乡级 and 村级 units are registered under their county's code.
_LEVELS_OF = {
    ExerciseLevel.PROVINCIAL: {"2"},
    ExerciseLevel.MUNICIPAL: {"3"},
    ExerciseLevel.COUNTY: {"4", "5", "6"},
}


def managed_region(principal: Principal) -> str:
    """The region an administrator or supervisor works in; OutsideRegion when the token has none."""
    region = region_of(principal)
    if region is None:
        raise OutsideRegion("登录凭证未载明所属行政区划，无法确定管理范围")
    return region


def _require_within(principal: Principal, region_code: str) -> None:
    own = managed_region(principal)
    if not covers(own, region_code):
        raise OutsideRegion(f"行政区划 {region_code} 不在本级（{own}）管理范围内")


def parent_of(code: str) -> str | None:
    """The parent region a code hangs under: county → city (or province for XX90ZZ), city → province."""
    level = region_level(code)
    if level is ExerciseLevel.PROVINCIAL:
        return None
    if level is ExerciseLevel.MUNICIPAL or code[2:4] == "90":
        return code[:2] + "0000"
    return code[:4] + "00"


def region_view(region: Region) -> RegionView:
    """The API view of a region."""
    return RegionView(
        code=region.code,
        name=region.name,
        parent_code=region.parent_code,
        level=region_level(region.code).value,
    )


def department_view(department: Department) -> DepartmentView:
    """The API view of a department."""
    return DepartmentView(
        org_code=department.org_code,
        name=department.name,
        region_code=department.region_code,
        level=department.level,
        level_name=LEVEL_NAMES[department.level],
    )


def post_view(post: Post) -> PostView:
    """The API view of a post."""
    return PostView(
        id=post.id, org_code=post.org_code, code=post.code, name=post.name, kind=post.kind, roles=post.roles
    )


def staff_view(member: StaffMember, region_code: str, posts: Sequence[Post]) -> StaffView:
    """The API view of a staff member."""
    return StaffView(
        id=member.id,
        username=member.username,
        name=member.name,
        org_code=member.org_code,
        region_code=region_code,
        active=member.active,
        version=member.version,
        roles=sorted({r for p in posts for r in p.roles}) if member.active else [],
        posts=[post_view(p) for p in posts],
        updated_at=member.updated_at,
    )


# --- regions ---------------------------------------------------------------------------------


async def create_region(session: AsyncSession, principal: Principal, body: RegionCreate) -> RegionView:
    """新建行政区划 below the administrator's region; its parent must be in the tree already."""
    _require_within(principal, body.code)
    repository = RegionRepository.from_session(session)
    if await repository.get_by_id(body.code) is not None:
        raise RegionExists(f"行政区划 {body.code} 已存在")
    parent = parent_of(body.code)
    if parent is not None and await repository.get_by_id(parent) is None:
        raise RegionParentMissing(f"请先建立上级行政区划 {parent}")
    region = await repository.create(Region(code=body.code, name=body.name, parent_code=parent), flush=True)
    return region_view(region)


async def list_regions(session: AsyncSession, principal: Principal) -> list[RegionView]:
    """The regions in the caller's region."""
    prefix = region_prefix(managed_region(principal))
    return [region_view(r) for r in await RegionRepository.from_session(session).listed(prefix)]


# --- departments -----------------------------------------------------------------------------


async def create_department(
    session: AsyncSession, principal: Principal, body: DepartmentCreate
) -> DepartmentView:
    """新建部门 in a region of the tree, at a level that fits the region's code."""
    _require_within(principal, body.region_code)
    if await RegionRepository.from_session(session).get_by_id(body.region_code) is None:
        raise RegionNotFound(f"行政区划 {body.region_code} 尚未建立")
    level = region_level(body.region_code)
    if body.level not in _LEVELS_OF[level]:
        allowed = "、".join(LEVEL_NAMES[c] for c in sorted(_LEVELS_OF[level]))
        raise LevelMismatch(f"{level.label}行政区划 {body.region_code} 下的部门层级只能是：{allowed}")
    repository = DepartmentRepository.from_session(session)
    if await repository.get_by_id(body.org_code) is not None:
        raise DepartmentExists(f"统一社会信用代码 {body.org_code} 的部门已存在")
    department = Department(
        org_code=body.org_code, name=body.name, region_code=body.region_code, level=body.level
    )
    return department_view(await repository.create(department, flush=True))


async def visible_department(session: AsyncSession, principal: Principal, org_code: str) -> Department:
    """A department of the caller's region; DepartmentNotFound for any other (not leaked)."""
    department = await DepartmentRepository.from_session(session).get_by_id(org_code)
    if department is None or not covers(managed_region(principal), department.region_code):
        raise DepartmentNotFound(f"部门 {org_code} 不存在")
    return department


async def list_departments(
    session: AsyncSession, principal: Principal, *, region_code: str | None
) -> list[DepartmentView]:
    """The departments in the caller's region (optionally of one region)."""
    prefix = region_prefix(managed_region(principal))
    rows = await DepartmentRepository.from_session(session).listed(prefix, region_code=region_code)
    return [department_view(d) for d in rows]


# --- posts -----------------------------------------------------------------------------------


async def create_post(
    session: AsyncSession, principal: Principal, org_code: str, body: PostCreate
) -> PostView:
    """新建窗口 / 岗位 of a department."""
    department = await visible_department(session, principal, org_code)
    repository = PostRepository.from_session(session)
    if await repository.by_code(department.org_code, body.code) is not None:
        raise PostExists(f"本部门已有编码为 {body.code} 的岗位")
    post = Post(
        org_code=department.org_code,
        code=body.code,
        name=body.name,
        kind=body.kind,
        roles=sorted(set(body.roles)),
    )
    return post_view(await repository.create(post, flush=True))


async def list_posts(session: AsyncSession, principal: Principal, org_code: str) -> list[PostView]:
    """A department's posts."""
    department = await visible_department(session, principal, org_code)
    return [
        post_view(p) for p in await PostRepository.from_session(session).of_department(department.org_code)
    ]


# --- staff -----------------------------------------------------------------------------------


async def _posts_for(
    session: AsyncSession, department: Department, post_ids: Sequence[uuid.UUID]
) -> list[Post]:
    wanted = list(dict.fromkeys(post_ids))
    posts = list(await PostRepository.from_session(session).many(wanted))
    if missing := sorted(str(i) for i in set(wanted) - {p.id for p in posts}):
        raise PostNotFound(f"岗位不存在：{'、'.join(missing)}")
    if foreign := [p.code for p in posts if p.org_code != department.org_code]:
        raise PostNotInDepartment(
            f"岗位 {'、'.join(foreign)} 不属于部门 {department.name}，工作人员只能在本部门任职"
        )
    return posts


async def _announce(
    session: AsyncSession,
    principal: Principal,
    member: StaffMember,
    department: Department,
    posts: Sequence[Post],
    *,
    source: str,
    change: str,
) -> None:
    await enqueue(
        session,
        messaging.outbox,
        events.staff_assigned(member, department, posts, changed_by=principal.sub, source=source),
    )
    await record_audit(
        session,
        messaging.outbox,
        source=source,
        action=PERMISSION_CHANGED,
        actor=principal,
        region_code=department.region_code,
        target_type="staff_member",
        target_id=str(member.id),
        detail={
            "change": change,
            "username": member.username,
            "org_code": department.org_code,
            "roles": sorted({r for p in posts for r in p.roles}) if member.active else [],
            "posts": [p.code for p in posts],
            "version": member.version,
        },
    )


async def create_staff(
    session: AsyncSession, principal: Principal, body: StaffCreate, *, source: str
) -> StaffView:
    """新建工作人员 in a department of the caller's region, with their first posts."""
    department = await visible_department(session, principal, body.org_code)
    repository = StaffRepository.from_session(session)
    if await repository.by_username(body.username) is not None:
        raise StaffExists(f"登录名 {body.username} 已有工作人员")
    posts = await _posts_for(session, department, body.post_ids)
    member = await repository.create(
        StaffMember(
            username=body.username,
            name=body.name,
            org_code=department.org_code,
            active=True,
            version=1,
            updated_at=utcnow(),
        ),
        flush=True,
    )
    await repository.set_posts(member.id, [p.id for p in posts])
    await _announce(session, principal, member, department, posts, source=source, change="created")
    return staff_view(member, department.region_code, posts)


async def _visible_staff(
    session: AsyncSession, principal: Principal, staff_id: uuid.UUID, *, lock: bool = False
) -> tuple[StaffMember, Department]:
    repository = StaffRepository.from_session(session)
    member = await (repository.locked(staff_id) if lock else repository.get_by_id(staff_id))
    if member is None:
        raise StaffNotFound(f"工作人员 {staff_id} 不存在")
    department = await DepartmentRepository.from_session(session).get_by_id(member.org_code)
    if department is None or not covers(managed_region(principal), department.region_code):
        raise StaffNotFound(f"工作人员 {staff_id} 不存在")
    return member, department


async def get_staff(session: AsyncSession, principal: Principal, staff_id: uuid.UUID) -> StaffView:
    """One staff member of the caller's region."""
    member, department = await _visible_staff(session, principal, staff_id)
    posts = [p for _, p in await StaffRepository.from_session(session).posts_of([member.id])]
    return staff_view(member, department.region_code, posts)


async def list_staff(
    session: AsyncSession, principal: Principal, *, org_code: str | None, offset: int, limit: int
) -> tuple[list[StaffView], int]:
    """One page of the staff of the caller's region (optionally of one department)."""
    prefix = region_prefix(managed_region(principal))
    repository = StaffRepository.from_session(session)
    rows, total = await repository.listed(prefix, org_code=org_code, offset=offset, limit=limit)
    held: dict[uuid.UUID, list[Post]] = {}
    for staff_id, post in await repository.posts_of([m.id for m, _ in rows]):
        held.setdefault(staff_id, []).append(post)
    return [staff_view(m, region, held.get(m.id, [])) for m, region in rows], total


async def assign_posts(
    session: AsyncSession,
    principal: Principal,
    staff_id: uuid.UUID,
    post_ids: Sequence[uuid.UUID],
    *,
    source: str,
) -> StaffView:
    """岗位分配 Replace a staff member's posts; the gateway and the audit log hear of it."""
    member, department = await _visible_staff(session, principal, staff_id, lock=True)
    posts = await _posts_for(session, department, post_ids)
    repository = StaffRepository.from_session(session)
    await repository.set_posts(member.id, [p.id for p in posts])
    await repository.update(
        member, update_dict={"version": member.version + 1, "updated_at": utcnow()}, flush=True
    )
    await _announce(session, principal, member, department, posts, source=source, change="posts_assigned")
    return staff_view(member, department.region_code, posts)


async def deactivate_staff(
    session: AsyncSession, principal: Principal, staff_id: uuid.UUID, *, source: str
) -> StaffView:
    """停用 A staff member leaves: no post, no role; the gateway account keeps no staff role."""
    member, department = await _visible_staff(session, principal, staff_id, lock=True)
    repository = StaffRepository.from_session(session)
    await repository.set_posts(member.id, [])
    await repository.update(
        member,
        update_dict={"active": False, "version": member.version + 1, "updated_at": utcnow()},
        flush=True,
    )
    await _announce(session, principal, member, department, [], source=source, change="deactivated")
    return staff_view(member, department.region_code, [])
