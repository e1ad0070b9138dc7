"""Problems the supervision domain reports (zh-CN first)."""

from __future__ import annotations

from yiwang_common.http import Conflict, NotFound, UnprocessableContent


class DeadlineNotFound(NotFound):
    """The case has no running clock: not accepted yet, or another unit's (not distinguished)."""

    code = "deadline_not_found"
    title = "办件尚未受理或不存在，没有办理时限"


class ClockClosed(Conflict):
    """The case is completed; its clock no longer moves."""

    code = "clock_closed"
    title = "办件已办结，时限不能再变更"


class AlreadyPaused(Conflict):
    """One pause at a time."""

    code = "already_paused"
    title = "办件已暂停计时"


class NotPaused(Conflict):
    """Nothing to resume."""

    code = "not_paused"
    title = "办件未暂停计时"


class AlreadyExtended(Conflict):
    """One extension per case (seed rules §2.5)."""

    code = "already_extended"
    title = "每件办件只能延期一次"


class ExtensionTooLong(UnprocessableContent):
    """More working days than the configured maximum."""

    code = "extension_too_long"
    title = "延期天数超过上限"


class WarningNotFound(NotFound):
    """No such warning, or another unit's."""

    code = "warning_not_found"
    title = "监察预警不存在"


class WarningStateConflict(Conflict):
    """A reply to a closed warning, or closing one that has no reply."""

    code = "warning_state_conflict"
    title = "监察预警当前状态不允许此操作"


class ScheduleRejected(UnprocessableContent):
    """A holiday schedule that breaks the format; ``errors`` lists every problem."""

    code = "schedule_invalid"
    title = "节假日安排文件不符合格式"


class ScheduleNotFound(NotFound):
    """No schedule for the year."""

    code = "schedule_not_found"
    title = "该年度没有节假日安排"
