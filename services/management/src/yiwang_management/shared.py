"""Helpers every domain of the management platform shares: local dates, the event source, the window."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from yiwang_common.auth import Principal

# China has kept UTC+8 without daylight saving since 1991; a fixed offset needs no tzdata in slim images.
CHINA_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


def local_date(moment: datetime) -> date:
    """Return the Asia/Shanghai calendar date of an aware instant (日期 as the window sees it)."""
    return moment.astimezone(CHINA_TZ).date()


def event_source(region_code: str) -> str:
    """Return the CloudEvents ``source`` of this service, as the runtime spells it."""
    return f"urn:yiwang:{region_code}:management"


def window_of(principal: Principal) -> str | None:
    """受理窗口 ``{统一社会信用代码}/{窗口编码}`` of a staff member at a window post, else None (ADR 0122).

    The unit is the staff member's own: a centre's 综合窗口 accepts for many departments.
    """
    if principal.window and principal.org_code:
        return f"{principal.org_code}/{principal.window}"
    return None
