"""Problems of the organisation domain (zh-CN first)."""

from __future__ import annotations

from yiwang_common.http import Conflict, Forbidden, NotFound, UnprocessableContent


class RegionNotFound(NotFound):
    """No such region in the tree (or outside the administrator's region)."""

    code = "region_not_found"
    title = "行政区划不存在"


class RegionExists(Conflict):
    """The region is already in the tree."""

    code = "region_exists"
    title = "行政区划已存在"


class RegionParentMissing(UnprocessableContent):
    """A city or county region needs its parent in the tree first."""

    code = "region_parent_missing"
    title = "上级行政区划尚未建立"


class DepartmentNotFound(NotFound):
    """No such department (or outside the administrator's region)."""

    code = "department_not_found"
    title = "部门不存在"


class DepartmentExists(Conflict):
    """A department with this 统一社会信用代码 exists."""

    code = "department_exists"
    title = "该统一社会信用代码的部门已存在"


class LevelMismatch(UnprocessableContent):
    """The level does not fit the region (a county code cannot hold a 省级 department)."""

    code = "level_mismatch"
    title = "层级与行政区划不符"


class PostNotFound(NotFound):
    """No such window or post."""

    code = "post_not_found"
    title = "岗位不存在"


class PostExists(Conflict):
    """The department already has a post with this code."""

    code = "post_exists"
    title = "本部门已有该编码的岗位"


class StaffNotFound(NotFound):
    """No such staff member (or outside the administrator's region)."""

    code = "staff_not_found"
    title = "工作人员不存在"


class StaffExists(Conflict):
    """A staff member with this user name exists."""

    code = "staff_exists"
    title = "该登录名的工作人员已存在"


class PostNotInDepartment(UnprocessableContent):
    """A staff member can hold only posts of their own department (one unit per token)."""

    code = "post_not_in_department"
    title = "只能分配本部门的岗位"


class OutsideRegion(Forbidden):
    """An administrator manages only the tree below their own region."""

    code = "outside_region"
    title = "超出本级管理范围"
