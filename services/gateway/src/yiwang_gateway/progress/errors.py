"""Problems of the progress domain."""

from __future__ import annotations

from yiwang_common.http.problems import Conflict, NotFound, UnprocessableContent


class CaseNotFound(NotFound):
    """No case with that 办件编号 among the caller's applications."""

    code = "case_not_found"
    title = "办件不存在"


class CaseNotAwaitingSupplement(Conflict):
    """Materials can be supplemented only after a one-time notice (一次性告知) or while a 容缺 case owes them."""

    code = "case_not_awaiting_supplement"
    title = "办件当前不需要补正材料"


class MaterialNotRequested(UnprocessableContent):
    """A supplement may deliver only what the one-time notice (一次性告知) still asks for."""

    code = "material_not_requested"
    title = "补正材料不在一次性告知所列范围内"


class JointPartNotFound(NotFound):
    """The caller's joint case (联办件) has no part with that number (or the case is no joint case)."""

    code = "joint_part_not_found"
    title = "联办件没有该部门分件"


class JointPartNotAwaitingSupplement(Conflict):
    """The department's part is not waiting for a 补正: never asked, already supplied, or decided."""

    code = "joint_part_not_awaiting_supplement"
    title = "该部门当前不需要补正"


class JointSupplementRefused(UnprocessableContent):
    """management refused the 补正 itself (e.g. materials the department did not ask for)."""

    code = "joint_supplement_invalid"
    title = "补正内容不符合该部门的要求"
