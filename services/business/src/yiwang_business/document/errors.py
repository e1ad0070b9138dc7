"""Problems of decisions (决定书)."""

from __future__ import annotations

from yiwang_common.http.problems import NotFound


class DecisionNotFound(NotFound):
    """决定书不存在: the case has no decision yet, or the caller may not see it."""

    code = "decision_not_found"
    title = "决定书不存在"
