"""Problems the joint-approval and plug-in domain reports."""

from __future__ import annotations

from yiwang_common.http import Conflict, NotFound, Unauthorized, UnprocessableContent


class JointCaseNotFound(NotFound):
    """No such joint case, or the caller may not read it (not distinguished on purpose)."""

    code = "joint_case_not_found"
    title = "联办件不存在"


class PartNotFound(NotFound):
    """No such part for the calling system: another department's parts do not exist for it."""

    code = "part_not_found"
    title = "联办分件不存在"


class PartConflict(Conflict):
    """The part is decided already (with another result), or not open for the action."""

    code = "part_conflict"
    title = "联办分件当前状态不允许此操作"


class PartNotAwaitingSupplement(PartConflict):
    """A 补正 for a part that is not 待补正: never asked, already supplied (a duplicate) or decided."""

    code = "part_not_awaiting_supplement"
    title = "该部门未在等待补正"


class SupplementInvalid(UnprocessableContent):
    """The 补正 hands in materials the department did not ask for."""

    code = "supplement_invalid"
    title = "补正内容不符合要求"


class SystemNotFound(NotFound):
    """No such external system."""

    code = "system_not_found"
    title = "外部系统不存在"


class ItemNotFound(NotFound):
    """No such item in force."""

    code = "item_not_found"
    title = "事项不存在"


class HandlerInvalid(UnprocessableContent):
    """An external system may only handle items of its own department."""

    code = "handler_invalid"
    title = "办理系统配置无效"


class JointCaseInvalid(UnprocessableContent):
    """A joint case needs items of at least two different departments."""

    code = "joint_case_invalid"
    title = "联办件无效"


class ResultInvalid(UnprocessableContent):
    """A refusal needs its reason; the decision must be the part's department's."""

    code = "result_invalid"
    title = "办理结果无效"


class BadClientCredentials(Unauthorized):
    """Unknown client id, wrong secret, or a deactivated system."""

    code = "bad_client_credentials"
    title = "客户端凭证无效"


class BadSystemToken(Unauthorized):
    """Missing, unknown or expired token of an external system."""

    code = "bad_system_token"
    title = "外部系统令牌无效或已过期"
