"""Working-day calendar (工作日): statutory and promised limits are counted in working days.

Official holidays and adjusted working days (调休) come from ``chinese-calendar``; deployments
override single dates through configuration. For years the package does not yet cover, the
calendar falls back to Monday–Friday plus the configured overrides, and says so in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, timedelta

import chinese_calendar

log = logging.getLogger(__name__)


class WorkingDayCalendar:
    """Answers "is this a working day" and counts working days."""

    def __init__(
        self, extra_holidays: Iterable[date | str] = (), extra_workdays: Iterable[date | str] = ()
    ) -> None:
        """Create a calendar.

        Args:
            extra_holidays: dates to treat as holidays (e.g. a local holiday, or a year the
                package does not know yet).
            extra_workdays: dates to treat as working days (调休 not yet in the package).
        """
        self._holidays = {_as_date(d) for d in extra_holidays}
        self._workdays = {_as_date(d) for d in extra_workdays}
        self._warned_years: set[int] = set()

    def is_working_day(self, day: date) -> bool:
        """Tell whether government offices work on a date.

        Args:
            day: the date.

        Returns:
            True for a working day.
        """
        if day in self._workdays:
            return True
        if day in self._holidays:
            return False
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            if day.year not in self._warned_years:
                self._warned_years.add(day.year)
                log.warning(
                    "no official calendar for this year; counting Monday to Friday", extra={"year": day.year}
                )
            return day.weekday() < 5

    def add_working_days(self, start: date, days: int) -> date:
        """Return the date on which a limit of ``days`` working days ends.

        The start day itself is not counted (a case accepted on Monday with a limit of one
        working day is due on Tuesday), as 《行政许可法》 counts from the day after.

        Args:
            start: the day the clock starts.
            days: the limit in working days, at least 0.

        Returns:
            The last day of the limit.

        Raises:
            ValueError: for a negative limit.
        """
        if days < 0:
            raise ValueError("a limit cannot be negative")
        current = start
        remaining = days
        while remaining:
            current += timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Count working days after ``start`` up to and including ``end``.

        Args:
            start: the day the clock started (not counted).
            end: the last day counted.

        Returns:
            The count; 0 when ``end`` is not after ``start``.
        """
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)
