"""API models of the organisation tree and staff (zh-CN term beside the English one)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from yiwang_common.contracts.codes import CreditCode, RegionCode
from yiwang_common.text import Name

#: 层级 levels a department can sit at (ExerciseLevel codes): 省/市/县/乡/村.
Level = Literal["2", "3", "4", "5", "6"]
LEVEL_NAMES = {"2": "省级", "3": "市级", "4": "县级", "5": "乡级", "6": "村级"}
Role = Literal["receiver", "acceptor", "reviewer", "approver", "deliverer", "supervisor", "admin"]
PostCode = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z_-]{1,32}$")]
Username = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z_.@-]{1,64}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegionCreate(_Strict):
    """新建行政区划 A region of the tree."""

    code: RegionCode = Field(description="行政区划代码 (GB/T 2260)", examples=["530428"])
    name: Name = Field(description="名称", examples=["元江哈尼族彝族傣族自治县"])


class RegionView(BaseModel):
    """行政区划 Region."""

    code: str = Field(examples=["530428"])
    name: str = Field(examples=["元江哈尼族彝族傣族自治县"])
    parent_code: str | None = Field(examples=["530400"])
    level: str = Field(description="层级代码 of the code itself: 2 省级, 3 市级, 4 县级", examples=["4"])


class DepartmentCreate(_Strict):
    """新建部门 A department of a region."""

    org_code: CreditCode = Field(description="统一社会信用代码 (GB 32100)", examples=["11530428015176456L"])
    name: Name = Field(description="部门名称", examples=["元江县住房和城乡建设局"])
    region_code: RegionCode = Field(description="行政区划代码", examples=["530428"])
    level: Level = Field(description="层级: 2 省级, 3 市级, 4 县级, 5 乡级, 6 村级", examples=["4"])


class DepartmentView(BaseModel):
    """部门 Department."""

    org_code: str = Field(examples=["11530428015176456L"])
    name: str
    region_code: str
    level: str
    level_name: str = Field(examples=["县级"])


class PostCreate(_Strict):
    """新建窗口 / 岗位 A window or post and the roles it grants."""

    code: PostCode = Field(description="岗位编码, unique in the department", examples=["SL01"])
    name: Name = Field(description="岗位名称", examples=["综合受理窗口"])
    kind: Literal["window", "post"] = Field(description="window 窗口 / post 岗位", examples=["window"])
    roles: list[Role] = Field(
        min_length=1,
        max_length=7,
        description="收件人 receiver, 受理人 acceptor, 审查人 reviewer, 决定人 approver, 送件人 deliverer, "
        "电子监察 supervisor, 中心管理员 admin",
        examples=[["receiver", "acceptor"]],
    )


class PostView(BaseModel):
    """窗口 / 岗位 Post."""

    id: uuid.UUID
    org_code: str
    code: str
    name: str
    kind: str
    roles: list[str]


class StaffCreate(_Strict):
    """新建工作人员 A staff member: the gateway staff account's user name, in one department."""

    username: Username = Field(description="登录名 of the gateway staff account", examples=["yj_slr01"])
    name: Name = Field(description="姓名", examples=["李娜"])
    org_code: CreditCode = Field(description="部门统一社会信用代码", examples=["11530428015176456L"])
    post_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=20,
        description="岗位 to hold",
        examples=[["0190c3b4-8a51-7c3e-9a0b-1c2d3e4f5a6b"]],
    )


class PostAssignment(_Strict):
    """岗位分配 The posts a staff member holds from now on (replaces the previous set)."""

    post_ids: list[uuid.UUID] = Field(
        max_length=20,
        description="岗位 ids, all of the member's department",
        examples=[["0190c3b4-8a51-7c3e-9a0b-1c2d3e4f5a6b"]],
    )


class StaffView(BaseModel):
    """工作人员 Staff member with their posts and the roles those grant."""

    id: uuid.UUID
    username: str
    name: str
    org_code: str
    region_code: str
    active: bool
    version: int
    roles: list[str] = Field(description="Union of the posts' roles", examples=[["acceptor", "receiver"]])
    posts: list[PostView]
    updated_at: datetime
