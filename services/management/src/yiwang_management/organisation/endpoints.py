"""REST surface of the organisation tree and staff (中心管理员 manages; 电子监察 may read)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.auth import ROLE_ADMIN, ROLE_SUPERVISOR, Principal, require_role
from yiwang_common.contracts.codes import CreditCode, RegionCode
from yiwang_common.db import get_session
from yiwang_common.http import Forbidden, Unauthorized, problem_responses
from yiwang_common.http.pagination import ListResource, PageQuery
from yiwang_management.organisation import service
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
from yiwang_management.organisation.schemas import (
    DepartmentCreate,
    DepartmentView,
    PostAssignment,
    PostCreate,
    PostView,
    RegionCreate,
    RegionView,
    StaffCreate,
    StaffView,
)

router = APIRouter(prefix="/organisation", tags=["organisation"])
#: Data scope for the authorisation matrix (docs/authorization-matrix.md, ADR 0105).
REGION_SCOPE: dict[str, Any] = {"x-access-scope": "region"}

Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
Admin = Annotated[Principal, require_role(ROLE_ADMIN)]
Reader = Annotated[Principal, require_role(ROLE_ADMIN, ROLE_SUPERVISOR)]
OrgCode = Annotated[CreditCode, Path(description="部门统一社会信用代码", examples=["11530428015176456L"])]
StaffId = Annotated[uuid.UUID, Path(description="工作人员 id")]
AUTH = (Unauthorized, Forbidden, OutsideRegion)


def _source(request: Request) -> str:
    source: str = request.app.state.runtime.source
    return source


@router.get(
    "/regions",
    openapi_extra=REGION_SCOPE,
    summary="行政区划列表 List regions",
    response_model=list[RegionView],
    responses=problem_responses(*AUTH),
)
async def list_regions(session: Session, principal: Reader) -> list[RegionView]:
    """本级及下级行政区划 The regions in the caller's region, by code."""
    return await service.list_regions(session, principal)


@router.post(
    "/regions",
    openapi_extra=REGION_SCOPE,
    status_code=201,
    summary="新建行政区划 Add a region",
    response_model=RegionView,
    responses=problem_responses(*AUTH, RegionExists, RegionParentMissing),
)
async def create_region(body: RegionCreate, session: Session, principal: Admin) -> RegionView:
    """新建行政区划 A GB/T 2260 region below the administrator's; its parent must exist."""
    return await service.create_region(session, principal, body)


@router.get(
    "/departments",
    openapi_extra=REGION_SCOPE,
    summary="部门列表 List departments",
    response_model=list[DepartmentView],
    responses=problem_responses(*AUTH),
)
async def list_departments(
    session: Session,
    principal: Reader,
    region_code: Annotated[RegionCode | None, Query(description="只看该行政区划的部门")] = None,
) -> list[DepartmentView]:
    """本级及下级部门 The departments in the caller's region."""
    return await service.list_departments(session, principal, region_code=region_code)


@router.post(
    "/departments",
    openapi_extra=REGION_SCOPE,
    status_code=201,
    summary="新建部门 Add a department",
    response_model=DepartmentView,
    responses=problem_responses(*AUTH, RegionNotFound, LevelMismatch, DepartmentExists),
)
async def create_department(body: DepartmentCreate, session: Session, principal: Admin) -> DepartmentView:
    """新建部门 With a valid 统一社会信用代码, in a region of the tree, at a level fitting the region."""
    return await service.create_department(session, principal, body)


@router.get(
    "/departments/{org_code}/posts",
    openapi_extra=REGION_SCOPE,
    summary="岗位列表 List a department's posts",
    response_model=list[PostView],
    responses=problem_responses(*AUTH, DepartmentNotFound),
)
async def list_posts(org_code: OrgCode, session: Session, principal: Reader) -> list[PostView]:
    """部门的窗口与岗位 A department's windows and posts."""
    return await service.list_posts(session, principal, org_code)


@router.post(
    "/departments/{org_code}/posts",
    openapi_extra=REGION_SCOPE,
    status_code=201,
    summary="新建岗位 Add a window or post",
    response_model=PostView,
    responses=problem_responses(*AUTH, DepartmentNotFound, PostExists),
)
async def create_post(org_code: OrgCode, body: PostCreate, session: Session, principal: Admin) -> PostView:
    """新建窗口 / 岗位 With the roles it grants."""
    return await service.create_post(session, principal, org_code, body)


@router.get(
    "/staff",
    openapi_extra=REGION_SCOPE,
    summary="工作人员列表 List staff",
    response_model=ListResource[StaffView],
    responses=problem_responses(*AUTH),
)
async def list_staff(
    session: Session,
    principal: Reader,
    pages: PageQuery,
    org_code: Annotated[CreditCode | None, Query(description="只看该部门")] = None,
) -> ListResource[StaffView]:
    """本级及下级工作人员 The staff of the caller's region, with their posts and roles."""
    items, total = await service.list_staff(
        session, principal, org_code=org_code, offset=pages.offset, limit=pages.limit
    )
    return pages.wrap(items, total)


@router.post(
    "/staff",
    openapi_extra=REGION_SCOPE,
    status_code=201,
    summary="新建工作人员 Add a staff member",
    response_model=StaffView,
    responses=problem_responses(*AUTH, DepartmentNotFound, StaffExists, PostNotFound, PostNotInDepartment),
)
async def create_staff(body: StaffCreate, request: Request, session: Session, principal: Admin) -> StaffView:
    """新建工作人员 Link a gateway staff account to a department and its first posts."""
    return await service.create_staff(session, principal, body, source=_source(request))


@router.get(
    "/staff/{staff_id}",
    openapi_extra=REGION_SCOPE,
    summary="工作人员详情 Get a staff member",
    response_model=StaffView,
    responses=problem_responses(*AUTH, StaffNotFound),
)
async def get_staff(staff_id: StaffId, session: Session, principal: Reader) -> StaffView:
    """工作人员 With posts and roles."""
    return await service.get_staff(session, principal, staff_id)


@router.put(
    "/staff/{staff_id}/posts",
    openapi_extra=REGION_SCOPE,
    summary="分配岗位 Set a staff member's posts",
    response_model=StaffView,
    responses=problem_responses(*AUTH, StaffNotFound, PostNotFound, PostNotInDepartment),
)
async def assign_posts(
    staff_id: StaffId, body: PostAssignment, request: Request, session: Session, principal: Admin
) -> StaffView:
    """岗位分配 The posts held from now on; the next token of the staff member carries their roles."""
    return await service.assign_posts(session, principal, staff_id, body.post_ids, source=_source(request))


@router.delete(
    "/staff/{staff_id}",
    openapi_extra=REGION_SCOPE,
    summary="停用工作人员 Deactivate a staff member",
    response_model=StaffView,
    responses=problem_responses(*AUTH, StaffNotFound),
)
async def deactivate_staff(
    staff_id: StaffId, request: Request, session: Session, principal: Admin
) -> StaffView:
    """停用 No posts, no roles; the record stays for the audit trail."""
    return await service.deactivate_staff(session, principal, staff_id, source=_source(request))
