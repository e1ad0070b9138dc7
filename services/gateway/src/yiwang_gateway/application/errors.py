"""Problems of the application domain."""

from __future__ import annotations

from yiwang_common.http.problems import Conflict, NotFound, UnprocessableContent


class ApplicationNotFound(NotFound):
    """No such application of the caller's."""

    code = "application_not_found"
    title = "申请不存在"


class FormInvalid(UnprocessableContent):
    """The form misses required fields or has wrong types."""

    code = "form_invalid"
    title = "申请表填写不完整或格式错误"


class IdempotencyKeyReused(Conflict):
    """Same ``Idempotency-Key`` sent with a different body."""

    code = "idempotency_key_reused"
    title = "幂等键已用于另一内容不同的请求"
