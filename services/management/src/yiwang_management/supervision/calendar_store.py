"""The process's working-day calendar kept in step with the schedules loaded in the database.

Every replica (API pods, the worker) holds one calendar. A schedule loaded through any of them is
stored in ``calendar_schedule``; the others pick it up on their next refresh, and the worker's sweep
recomputes the provisional deadlines a stale replica may have written meanwhile.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from yiwang_common.calendar import WorkingDayCalendar, parse_schedule
from yiwang_management.supervision.repository import ScheduleRepository

log = logging.getLogger(__name__)


class CalendarSync:
    """Refreshes a calendar from the loaded schedules when they changed."""

    def __init__(self, calendar: WorkingDayCalendar, *, every_seconds: float) -> None:
        self.calendar = calendar
        self.every_seconds = every_seconds
        self._version: tuple[int, datetime | None] | None = None
        self._checked = float("-inf")

    async def refresh(self, session: AsyncSession, *, force: bool = False) -> bool:
        """Re-read the schedules if due and changed, or whenever forced; True when they were re-read."""
        now = time.monotonic()
        if not force and now - self._checked < self.every_seconds:
            return False
        self._checked = now
        repository = ScheduleRepository.from_session(session)
        version = await repository.version()
        if version == self._version and not force:
            return False
        self.calendar.use_schedules([parse_schedule(row.document) for row in await repository.all()])
        self._version = version
        if version[0]:
            log.info("holiday schedules reloaded", extra={"schedules": version[0]})
        return True
