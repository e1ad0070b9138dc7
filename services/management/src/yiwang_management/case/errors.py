"""Problems the case domain reports."""

from __future__ import annotations

from yiwang_common.http import Conflict, NotFound, UnprocessableContent


class CaseNotFound(NotFound):
    """No such case, or it belongs to another unit (not distinguished on purpose)."""

    code = "case_not_found"
    title = "办件不存在"


class CaseStateConflict(Conflict):
    """The case's status does not allow the action."""

    code = "case_state_conflict"
    title = "办件当前状态不允许此操作"


class MaterialsMissing(Conflict):
    """Acceptance needs every required material."""

    code = "materials_missing"
    title = "申请材料不齐全，不能受理"


class NothingMissing(Conflict):
    """A one-time notice with nothing to ask for."""

    code = "nothing_missing"
    title = "没有需要补正的材料，请直接受理"


class NoticeIncomplete(UnprocessableContent):
    """A one-time notice must list every missing required material."""

    code = "notice_incomplete"
    title = "一次性告知未列明全部缺少的材料"


class NoticeMaterialInvalid(UnprocessableContent):
    """A notice may only name materials of the item's list, each once."""

    code = "notice_material_invalid"
    title = "告知的材料不在该事项的申请材料目录中或重复"
