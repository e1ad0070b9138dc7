"""Helpers every domain of the management platform shares: local dates and the event source."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

# China has kept UTC+8 without daylight saving since 1991; a fixed offset needs no tzdata in slim images.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def local_date(moment: datetime) -> date:
    """Return the Asia/Shanghai calendar date of an aware instant (日期 as the window sees it)."""
    return moment.astimezone(CHINA_TZ).date()


def event_source(region_code: str) -> str:
    """Return the CloudEvents ``source`` of this service, as the runtime spells it."""
    return f"urn:yiwang:{region_code}:management"
