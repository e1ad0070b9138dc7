"""Problems of the base registries (基础库)."""

from __future__ import annotations

from yiwang_common.http.problems import BadRequest, Forbidden, NotFound, PayloadTooLarge, UnprocessableContent


class RegistryAccessDenied(Forbidden):
    """Only the portal's service principal and authorised staff read the registries (deny by default)."""

    code = "registry_access_denied"
    title = "无权查询基础库"


class AccessReasonRequired(BadRequest):
    """A staff member's lookup needs a reason (查询事由) for the audit record."""

    code = "access_reason_required"
    title = "请填写查询事由"


class RegistryRecordNotFound(NotFound):
    """No exact match: the registry does not say which part differed."""

    code = "registry_record_not_found"
    title = "基础库中无匹配记录"


class LoadJobNotFound(NotFound):
    """No such load job."""

    code = "registry_load_not_found"
    title = "导入任务不存在"


class RegistryFileUnreadable(UnprocessableContent):
    """The file as a whole cannot be read (type, encoding, header)."""

    code = "registry_file_unreadable"
    title = "基础库文件无法读取"


class RegistryFileTooLarge(PayloadTooLarge):
    """The file is larger than an API load takes (the command line has no such cap)."""

    code = "registry_file_too_large"
    title = "基础库文件过大"


class InvalidLookupKey(UnprocessableContent):
    """The number looked up fails its check digit: it can name nobody."""

    code = "invalid_lookup_key"
    title = "证件号码校验失败"
