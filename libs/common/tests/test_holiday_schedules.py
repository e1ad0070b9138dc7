"""Holiday schedules as data (节假日安排): the file format, its validation, and counting across
the Spring Festival and National Day holidays with their 调休 working weekends."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import chinese_calendar
import pytest

from yiwang_common.calendar import (
    ScheduleInvalid,
    WorkingDayCalendar,
    load_schedule_bytes,
    packaged_schedules,
    parse_schedule,
)

# Test data shaped like an announcement for a year the package does not know; not a real notice.
SCHEDULE_2027: dict[str, Any] = {
    "year": 2027,
    "source": "测试用安排（非真实通知）",
    "holidays": [
        {"name": "元旦", "start": "2027-01-01", "end": "2027-01-03"},
        {"name": "春节", "start": "2027-02-06", "end": "2027-02-13"},
        {"name": "国庆节", "start": "2027-10-01", "end": "2027-10-07"},
    ],
    "workdays": [
        {"name": "春节", "date": "2027-02-14"},
        {"name": "国庆节", "date": "2027-10-09"},
    ],
}


def _with(**changes: Any) -> dict[str, Any]:
    return {**SCHEDULE_2027, **changes}


class TestCountingAcrossHolidays:
    def test_spring_festival_2026_skips_the_week_and_counts_the_adjusted_saturday(self) -> None:
        cal = WorkingDayCalendar()
        # Thu 12 Feb 2026: Fri 13 works, Sat 14 is 调休, 15–23 Feb are the holiday, Tue 24 works.
        assert cal.add_working_days(date(2026, 2, 12), 1) == date(2026, 2, 13)
        assert cal.add_working_days(date(2026, 2, 12), 2) == date(2026, 2, 14)
        assert cal.add_working_days(date(2026, 2, 12), 3) == date(2026, 2, 24)
        assert cal.working_days_between(date(2026, 2, 12), date(2026, 2, 24)) == 3

    def test_national_day_2026_with_the_adjusted_sunday_before_and_saturday_after(self) -> None:
        cal = WorkingDayCalendar()
        assert cal.is_working_day(date(2026, 9, 20))  # Sunday, 调休
        assert not cal.is_working_day(date(2026, 10, 5))
        # Fri 18 Sep: Sun 20 counts, then Mon 21 …; the week of 1–7 Oct does not.
        assert cal.add_working_days(date(2026, 9, 18), 1) == date(2026, 9, 20)
        assert cal.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)

    def test_subtracting_inverts_adding_over_the_holiday(self) -> None:
        cal = WorkingDayCalendar()
        due = cal.add_working_days(date(2026, 9, 28), 5)
        assert cal.subtract_working_days(due, 2) == cal.add_working_days(date(2026, 9, 28), 3)
        assert cal.subtract_working_days(due, 0) == due

    def test_a_loaded_schedule_changes_the_count_into_the_next_year(self) -> None:
        cal = WorkingDayCalendar()
        assert not cal.knows(2027)
        assert cal.unknown_years(date(2026, 12, 20), date(2027, 2, 20)) == [2027]
        # Without a schedule: Mon–Fri, so 1 Jan 2027 (a Friday) counts.
        assert cal.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 1)
        cal.add_schedule(parse_schedule(SCHEDULE_2027))
        assert cal.knows(2027)
        assert cal.unknown_years(date(2026, 12, 20), date(2027, 2, 20)) == []
        assert cal.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
        # Fri 5 Feb 2027 → holiday 6–13 → Sun 14 is 调休 → Mon 15.
        assert cal.add_working_days(date(2027, 2, 5), 1) == date(2027, 2, 14)
        assert cal.add_working_days(date(2027, 2, 5), 2) == date(2027, 2, 15)

    def test_remembered_counts_follow_a_replaced_set_of_schedules(self) -> None:
        # Counts are remembered per calendar; another replica's load (use_schedules) and its
        # withdrawal must change every kind of count asked before.
        cal = WorkingDayCalendar()
        start, due = date(2027, 2, 5), date(2027, 2, 15)

        def counts() -> tuple[Any, ...]:
            return (
                cal.add_working_days(start, 2),
                cal.subtract_working_days(due, 2),
                cal.warning_dates(due, 3),
                cal.working_days_between(start, due),
            )

        monday_to_friday = counts()
        assert monday_to_friday == counts()
        assert monday_to_friday == (
            date(2027, 2, 9),
            date(2027, 2, 11),
            [date(2027, 2, 15), date(2027, 2, 12), date(2027, 2, 11), date(2027, 2, 10)],
            6,
        )
        cal.use_schedules([parse_schedule(SCHEDULE_2027)])
        assert counts() == (
            date(2027, 2, 15),
            date(2027, 2, 5),
            [date(2027, 2, 15), date(2027, 2, 14), date(2027, 2, 5), date(2027, 2, 4)],
            2,
        )
        cal.warning_dates(due, 3).clear()  # a caller's copy, not the remembered answer
        assert cal.warning_dates(due, 3)[0] == due
        cal.use_schedules([])
        assert counts() == monday_to_friday

    def test_overrides_win_over_a_schedule(self) -> None:
        cal = WorkingDayCalendar(extra_workdays=["2026-10-02"], schedules=[parse_schedule(SCHEDULE_2027)])
        assert cal.is_working_day(date(2026, 10, 2))
        assert not cal.is_working_day(date(2027, 10, 4))


class TestPackagedSchedules:
    def test_every_year_the_package_knows_is_shipped_and_agrees_day_by_day(self) -> None:
        shipped = packaged_schedules()
        years = sorted({d.year for d in chinese_calendar.holidays})
        assert sorted(shipped) == years
        cal = WorkingDayCalendar()
        day, disagreements = date(years[0], 1, 1), []
        while day.year <= years[-1]:
            if cal.is_working_day(day) != chinese_calendar.is_workday(day):
                disagreements.append(day)
            day += timedelta(days=1)
        assert disagreements == []

    def test_every_entry_is_named(self) -> None:
        for schedule in packaged_schedules().values():
            assert all(p.name for p in schedule.holidays) and all(w.name for w in schedule.workdays)

    def test_a_document_round_trips(self) -> None:
        schedule = parse_schedule(SCHEDULE_2027)
        assert parse_schedule(schedule.to_document()) == schedule


class TestValidation:
    @pytest.mark.parametrize(
        ("document", "message"),
        [
            (
                _with(holidays=[{"name": "春节", "start": "2026-12-31", "end": "2027-01-02"}]),
                "不在 2027 年内",
            ),
            (
                _with(
                    holidays=[
                        {"name": "春节", "start": "2027-02-06", "end": "2027-02-13"},
                        {"name": "元宵", "start": "2027-02-13", "end": "2027-02-14"},
                    ],
                    workdays=[],
                ),
                "假期重叠",
            ),
            (_with(holidays=[{"name": " ", "start": "2027-02-06", "end": "2027-02-07"}]), "holidays/0/name"),
            (_with(workdays=[{"date": "2027-02-14"}]), "'name' is a required property"),
            (_with(workdays=[{"name": "春节", "date": "2027-02-15"}]), "不是周末"),
            (_with(workdays=[{"name": "春节", "date": "2027-02-07"}]), "在放假期间内"),
            (
                _with(holidays=[{"name": "春节", "start": "2027-02-13", "end": "2027-02-06"}]),
                "结束日期早于开始日期",
            ),
            (_with(holidays=[{"name": "春节", "start": "2027-02-30", "end": "2027-03-01"}]), "不是有效日期"),
            (
                _with(workdays=[{"name": "a", "date": "2027-02-14"}, {"name": "b", "date": "2027-02-14"}]),
                "重复",
            ),
            ({"year": 2027, "holidays": []}, "'workdays' is a required property"),
        ],
    )
    def test_a_broken_schedule_is_refused_with_the_reason(
        self, document: dict[str, Any], message: str
    ) -> None:
        with pytest.raises(ScheduleInvalid) as caught:
            parse_schedule(document)
        assert message in str(caught.value)

    def test_bytes_that_are_not_json_are_refused(self) -> None:
        with pytest.raises(ScheduleInvalid, match="JSON"):
            load_schedule_bytes(b"\xff not json")
        assert load_schedule_bytes(json.dumps(SCHEDULE_2027).encode()).year == 2027
