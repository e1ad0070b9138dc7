"""Problems of handling."""

from __future__ import annotations

from yiwang_common.http.problems import Conflict, Forbidden, NotFound


class TaskNotFound(NotFound):
    """No such task, or not one of the caller's unit (the two are not told apart)."""

    code = "task_not_found"
    title = "待办任务不存在"


class TaskRoleForbidden(Forbidden):
    """The task is the caller's unit's, but for a post the caller does not hold."""

    code = "task_role_forbidden"
    title = "无权办理该环节"


class TaskNotOpen(Conflict):
    """The task was already completed (this also makes a double click harmless)."""

    code = "task_not_open"
    title = "该环节已办理"


class CaseNotFound(NotFound):
    """No such case, or not one of the caller's unit."""

    code = "case_not_found"
    title = "办件不存在"
