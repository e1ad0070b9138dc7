"""Local dates: decisions and licences are dated in China Standard Time."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

# Asia/Shanghai has had no daylight saving since 1991; a fixed offset needs no tz database.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def local_date(moment: datetime) -> date:
    """Return the calendar date of an aware instant in Asia/Shanghai."""
    return moment.astimezone(CHINA_TZ).date()
