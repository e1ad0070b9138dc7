"""Local dates and working days: decisions, licences and step limits are dated in China Standard Time."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

from yiwang_business.config import get_settings
from yiwang_common.calendar import WorkingDayCalendar

# Asia/Shanghai has had no daylight saving since 1991; a fixed offset needs no tz database.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def local_date(moment: datetime) -> date:
    """Return the calendar date of an aware instant in Asia/Shanghai."""
    return moment.astimezone(CHINA_TZ).date()


@lru_cache(maxsize=1)
def working_calendar() -> WorkingDayCalendar:
    """The working-day calendar (工作日) of this deployment, with its configured overrides."""
    calendar = get_settings().calendar
    return WorkingDayCalendar(calendar.extra_holidays, calendar.extra_workdays)
