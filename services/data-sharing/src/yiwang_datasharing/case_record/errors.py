"""Problems of the case library (办件信息库)."""

from __future__ import annotations

from yiwang_common.http.problems import NotFound


class CaseRecordNotFound(NotFound):
    """办件不存在 No such case, or none the caller may see."""

    code = "case_not_found"
    title = "办件不存在"
