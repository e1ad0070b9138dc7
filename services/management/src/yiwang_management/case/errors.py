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


class DeferralNotAllowed(Conflict):
    """容缺受理 only where the item allows it."""

    code = "deferral_not_allowed"
    title = "该事项不允许容缺受理"


class DeferredMaterialInvalid(UnprocessableContent):
    """A 容缺 material must be a missing, non-key (可容缺) material of the item, each once."""

    code = "deferred_material_invalid"
    title = "容缺材料无效：须为缺少的、可容缺的非关键材料"


class DeferralNotLapsed(Conflict):
    """容缺逾期退回 only once the date to supply the owed materials by has passed."""

    code = "deferral_not_lapsed"
    title = "容缺材料补齐期限尚未届满"


class NothingPending(Conflict):
    """No 容缺 material is owed by this case."""

    code = "nothing_pending"
    title = "该办件没有待补齐的容缺材料"


class NoticeNotIssued(NotFound):
    """The case has no notice of that kind (or the caller may not see the case)."""

    code = "notice_not_issued"
    title = "该办件尚未出具此类通知书"


class CreditCodeInvalid(UnprocessableContent):
    """A 统一社会信用代码 whose check character (GB 32100) does not match."""

    code = "credit_code_invalid"
    title = "统一社会信用代码校验不通过"


class AgentMismatch(UnprocessableContent):
    """The person at the counter says they are the 法定代表人, under another name."""

    code = "agent_mismatch"
    title = "到场经办人与法定代表人不一致"


class IdNumberInvalid(UnprocessableContent):
    """A 居民身份证号码 whose check digit (GB 11643) does not match."""

    code = "id_number_invalid"
    title = "公民身份号码校验不通过"


class ItemNotHandledHere(Conflict):
    """A window registers only the items of its own unit that are in force."""

    code = "item_not_handled_here"
    title = "本窗口不受理该事项"


class IntakeMaterialInvalid(UnprocessableContent):
    """Window intake may only list materials of the item's list, each once."""

    code = "intake_material_invalid"
    title = "收件材料不在该事项的申请材料目录中或重复"
