"""Problems of handling."""

from __future__ import annotations

from yiwang_common.http.problems import Conflict, Forbidden, NotFound, UnprocessableContent


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


class CaseNotRunning(Conflict):
    """The case is decided or withdrawn: nothing more can be done to it."""

    code = "case_not_running"
    title = "办件已办结或已撤回"


class CaseClockStopped(Conflict):
    """The case's clock stands still (挂起, 补正, 特殊程序): steps wait until it resumes."""

    code = "case_clock_stopped"
    title = "办件计时暂停中"


class CaseClockRunning(Conflict):
    """Resume or correction of a case whose clock is not stopped for that reason."""

    code = "case_clock_running"
    title = "办件未处于相应的暂停状态"


class InvalidReturn(UnprocessableContent):
    """A 退回 to a step that is not an earlier step of this case."""

    code = "invalid_return"
    title = "无法退回到该环节"


class ProcedureNotAllowed(UnprocessableContent):
    """A 特殊程序 that the step's definition does not allow."""

    code = "special_procedure_not_allowed"
    title = "该环节不允许此特殊程序"


class InvalidTransfer(UnprocessableContent):
    """A 转办 to the post and department the task already has."""

    code = "invalid_transfer"
    title = "转办目标无效"
